; A small LLVM IR program for lli-14: main -> work -> helper -> sleep(30).
; lli registers its code through the plain GDB JIT interface (version 1,
; no seqlocks) from libLLVM-14.so.1, as relocatable objects.
declare i32 @sleep(i32)

define i32 @helper(i32 %x) {
entry:
  %r = call i32 @sleep(i32 %x)
  ret i32 %r
}

define i32 @work(i32 %x) {
entry:
  %r = call i32 @helper(i32 %x)
  %s = add i32 %r, 1
  ret i32 %s
}

define i32 @main() {
entry:
  %r = call i32 @work(i32 30)
  ret i32 0
}
