from django.urls import path

from .consumers import RoomConsumer

websocket_urlpatterns = [path("j/<str:token>/ws", RoomConsumer.as_asgi())]
