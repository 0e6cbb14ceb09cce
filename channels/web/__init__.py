"""The website: the chat widget's socket.io channel (socketio.py) and the pages the Rasa server serves (pages.py)."""
