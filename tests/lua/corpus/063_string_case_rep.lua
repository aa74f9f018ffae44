print(("MiXeD 123"):upper(), ("MiXeD 123"):lower())
print(("ab"):rep(3), ("ab"):rep(0), ("ab"):rep(-1), ("x"):rep(1))
print(("abc"):reverse(), (""):reverse(), ("a"):len())
print(string.len("\0ab"))
