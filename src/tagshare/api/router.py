from ninja import NinjaAPI

api = NinjaAPI(title="Tagshare API", version="1")
