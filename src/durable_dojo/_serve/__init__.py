"""dojo serve (a tool): the Worker and its objects on a real port."""
