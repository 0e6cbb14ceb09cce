"""What the tests (and bench/) share: the running assistant, loopback HTTP stand-ins, clients, the action executor."""
