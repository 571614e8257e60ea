from cpc_reports.app import build

build().run()
