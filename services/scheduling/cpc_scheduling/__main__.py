from cpc_scheduling.app import build

build().run()
