"""The agents' side: the console page, its HTTP API and the helpdesk worker, inside the Rasa server."""
