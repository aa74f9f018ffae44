local t = 1234567890
print(os.date("!%Y-%m-%d", t), os.date("!%H:%M:%S", t), os.date("!%j %w %y", t))
print(os.date("!%A %a %B %b %p", t))
print(os.date("!%c", 0))
local tt = os.date("!*t", t)
print(tt.year, tt.month, tt.day, tt.hour, tt.min, tt.sec, tt.wday, tt.yday)
print(os.time{year = 2020, month = 3, day = 1, hour = 0} - os.time{year = 2020, month = 2, day = 28, hour = 0})
