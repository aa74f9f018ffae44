error("plain message without position", 0)
