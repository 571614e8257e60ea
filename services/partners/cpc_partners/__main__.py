from cpc_partners.app import build

build().run()
