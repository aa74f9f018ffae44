#!/usr/bin/env lua5.1 (the first line is skipped when it starts with #)
print("shebang skipped")
-- comment at end of file without newline
-- final