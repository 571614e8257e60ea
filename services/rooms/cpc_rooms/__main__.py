from cpc_rooms.app import build

build().run()
