"""The sans-IO HTTP/1.1 core shared by the server and the client.

Bytes go in, events come out; events go in, bytes come out. Nothing here
touches a socket, an event loop or a clock (a test pins that), so every rule
is tested without I/O. See ``connection.py`` for the theory of operation.
"""
