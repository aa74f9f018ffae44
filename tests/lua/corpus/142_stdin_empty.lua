-- the test runner gives the script an empty stdin
print(io.read("*l"))
print(io.read("*a") == "")
print(io.read("*n"))
print(io.read(5))
