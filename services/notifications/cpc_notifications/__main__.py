from cpc_notifications.app import build

build().run()
