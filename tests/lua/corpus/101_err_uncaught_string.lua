print("before the error")
error("boom")
print("never")
