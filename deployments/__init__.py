"""Bootstrap of the local office: scripts for make up/down/demo and the demo driver."""
