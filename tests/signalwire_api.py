"""Start and drive the SignalWire contract server (tests/signalwire_api_server.py)."""

from .processes import ContractServerProcess


class SignalWireApi(ContractServerProcess):
    script = "signalwire_api_server.py"
