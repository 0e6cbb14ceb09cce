"""The action server: thin Rasa actions (actions.py) over plain service modules."""
