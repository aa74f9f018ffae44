// The Lua 5.1 `io` library (liolib.c semantics, messages included).
//
// Files are userdata holding a FILE*. They share one metatable (kept in the
// registry under "FILE*", as in Lua 5.1) whose __index holds the methods. The
// default input/output files live in the registry too. Everything goes through
// C stdio so print, io.write and io.stdout:write interleave correctly.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "api.h"

namespace jitvm {

namespace {

constexpr const char* kFileHandle = "FILE*";
constexpr const char* kDefaultInputKey = "jitvm.io.input";
constexpr const char* kDefaultOutputKey = "jitvm.io.output";
// Chunk size for "*a" and counted reads (LUAL_BUFFERSIZE).
constexpr size_t kReadChunk = BUFSIZ;

enum class FileKind : uint8_t {
  kRegular,   // fopen / tmpfile: fclose
  kPipe,      // popen: pclose
  kStandard,  // stdin/stdout/stderr: never closed
};

struct LuaFile {
  FILE* f;  // null once closed
  FileKind kind;
};

Table* registry(State* L) { return L->registry.as_table(); }

Table* file_metatable(State* L) {
  Value mt = get_field(L, registry(L), kFileHandle);
  return mt.is_table() ? mt.as_table() : nullptr;
}

LuaFile* as_file(State* L, const Value& v) {
  if (v.tt != kTUserdata) return nullptr;
  Userdata* u = v.as_userdata();
  if (u->metatable == nullptr || u->metatable != file_metatable(L)) return nullptr;
  return reinterpret_cast<LuaFile*>(u->data);
}

void close_file_now(LuaFile* lf) {
  if (lf->f == nullptr || lf->kind == FileKind::kStandard) return;
  if (lf->kind == FileKind::kPipe) {
    pclose(lf->f);
  } else {
    std::fclose(lf->f);
  }
  lf->f = nullptr;
}

// Runs when the GC frees a file userdata (data points at the LuaFile).
void finalize_file(void* data) { close_file_now(static_cast<LuaFile*>(data)); }

// topfile: the argument must be a file handle (open or closed).
LuaFile* check_file_handle(State* L, int i) {
  LuaFile* lf = as_file(L, arg(L, i));
  if (lf == nullptr) type_error(L, i, kFileHandle);
  return lf;
}

// tofile: the argument must be an open file.
FILE* check_open_file(State* L, int i) {
  LuaFile* lf = check_file_handle(L, i);
  if (lf->f == nullptr) error(L, "attempt to use a closed file");
  return lf->f;
}

// newfile: pushes a closed file handle; the caller opens it. Pushing first
// keeps it reachable (and so finalised) whatever happens next.
LuaFile* new_file(State* L, FileKind kind) {
  Userdata* u = new_userdata(L, sizeof(LuaFile), file_metatable(L));
  u->finalizer = finalize_file;
  LuaFile* lf = reinterpret_cast<LuaFile*>(u->data);
  lf->f = nullptr;
  lf->kind = kind;
  push(L, Value::object(&u->hdr));
  return lf;
}

// pushresult of liolib.c: true, or nil + message + errno.
int push_result(State* L, bool ok, const char* filename) {
  int en = errno;
  if (ok) {
    push_bool(L, true);
    return 1;
  }
  push_nil(L);
  if (filename != nullptr) {
    push_string(L, std::string(filename) + ": " + std::strerror(en));
  } else {
    push_string(L, std::strerror(en));
  }
  push_number(L, en);
  return 3;
}

[[noreturn]] void file_error(State* L, int i, const char* filename) {
  std::string msg = std::string(filename) + ": " + std::strerror(errno);
  arg_error(L, i, msg.c_str());
}

const char* default_key(bool output) { return output ? kDefaultOutputKey : kDefaultInputKey; }

FILE* get_io_file(State* L, bool output) {
  Value v = get_field(L, registry(L), default_key(output));
  LuaFile* lf = as_file(L, v);
  if (lf == nullptr || lf->f == nullptr) {
    error(L, "standard %s file is closed", output ? "output" : "input");
  }
  return lf->f;
}

// aux_close: closes the file at argument 1.
int aux_close(State* L) {
  LuaFile* lf = check_file_handle(L, 1);
  if (lf->kind == FileKind::kStandard) {
    push_nil(L);
    push_string(L, "cannot close standard file");
    return 2;
  }
  bool ok;
  if (lf->kind == FileKind::kPipe) {
    ok = pclose(lf->f) != -1;
  } else {
    ok = std::fclose(lf->f) == 0;
  }
  lf->f = nullptr;
  return push_result(L, ok, nullptr);
}

int io_close(State* L) {
  if (nargs(L) == 0) push(L, get_field(L, registry(L), kDefaultOutputKey));
  check_open_file(L, 1);
  return aux_close(L);
}

int io_gc(State* L) {
  LuaFile* lf = check_file_handle(L, 1);
  if (lf->f != nullptr) aux_close(L);
  return 0;
}

int io_tostring(State* L) {
  LuaFile* lf = check_file_handle(L, 1);
  if (lf->f == nullptr) {
    push_string(L, "file (closed)");
  } else {
    char buf[64];
    std::snprintf(buf, sizeof buf, "file (%p)", static_cast<void*>(lf->f));
    push_string(L, buf);
  }
  return 1;
}

int io_type(State* L) {
  check_any(L, 1);
  LuaFile* lf = as_file(L, arg(L, 1));
  if (lf == nullptr) {
    push_nil(L);
  } else {
    push_string(L, lf->f == nullptr ? "closed file" : "file");
  }
  return 1;
}

int io_open(State* L) {
  const char* filename = check_string(L, 1)->c_str();
  String* mode = opt_string(L, 2, nullptr);
  if (L->g->sandbox) error(L, "'open' is disabled in the sandbox");
  LuaFile* lf = new_file(L, FileKind::kRegular);
  lf->f = std::fopen(filename, mode ? mode->c_str() : "r");
  return lf->f == nullptr ? push_result(L, false, filename) : 1;
}

int io_popen(State* L) {
  const char* command = check_string(L, 1)->c_str();
  if (L->g->sandbox) error(L, "'popen' is disabled in the sandbox");
  String* mode = opt_string(L, 2, nullptr);
  LuaFile* lf = new_file(L, FileKind::kPipe);
  std::fflush(nullptr);
  lf->f = popen(command, mode ? mode->c_str() : "r");
  return lf->f == nullptr ? push_result(L, false, command) : 1;
}

int io_tmpfile(State* L) {
  LuaFile* lf = new_file(L, FileKind::kRegular);
  lf->f = std::tmpfile();
  return lf->f == nullptr ? push_result(L, false, nullptr) : 1;
}

// io.input / io.output: set the default file from a name or a handle, then
// return the current default.
int g_iofile(State* L, bool output) {
  if (!arg_absent(L, 1)) {
    const Value& a = arg(L, 1);
    Value chosen;
    if (a.is_string() || a.is_number()) {
      const char* filename = check_string(L, 1)->c_str();
      if (L->g->sandbox) error(L, "'%s' of a file name is disabled in the sandbox", output ? "output" : "input");
      LuaFile* lf = new_file(L, FileKind::kRegular);
      lf->f = std::fopen(filename, output ? "w" : "r");
      if (lf->f == nullptr) file_error(L, 1, filename);
      chosen = L->top[-1];
    } else {
      check_open_file(L, 1);
      chosen = a;
    }
    set_field(L, registry(L), default_key(output), chosen);
  }
  push(L, get_field(L, registry(L), default_key(output)));
  return 1;
}

int io_input(State* L) { return g_iofile(L, false); }
int io_output(State* L) { return g_iofile(L, true); }

// ---- reading ------------------------------------------------------------------

bool read_line(State* L, FILE* f) {
  std::string b;
  int c;
  while ((c = std::getc(f)) != EOF && c != '\n') b.push_back(static_cast<char>(c));
  push_string(L, b);
  return c == '\n' || !b.empty();
}

bool read_chars(State* L, FILE* f, size_t n) {
  std::string b;
  size_t rlen = kReadChunk;
  size_t nr;
  do {
    if (rlen > n) rlen = n;
    size_t old = b.size();
    b.resize(old + rlen);
    nr = std::fread(&b[old], 1, rlen, f);
    b.resize(old + nr);
    n -= nr;
  } while (n > 0 && nr == rlen);
  push_string(L, b);
  return n == 0 || !b.empty();
}

bool read_number(State* L, FILE* f) {
  double d;
  if (std::fscanf(f, "%lf", &d) == 1) {
    push_number(L, d);
    return true;
  }
  push_nil(L);
  return false;
}

bool test_eof(State* L, FILE* f) {
  int c = std::getc(f);
  std::ungetc(c, f);
  push_string(L, "");
  return c != EOF;
}

// g_read: formats are arguments first..nargs.
int g_read(State* L, FILE* f, int first) {
  int count = nargs(L) - first + 1;
  std::clearerr(f);
  int results = 0;
  bool success = true;
  if (count <= 0) {
    success = read_line(L, f);
    results = 1;
  } else {
    check_stack(L, count + kMinStackForNative);
    for (int n = first; count-- > 0 && success; n++) {
      const Value& fmt = arg(L, n);
      if (fmt.is_number()) {
        size_t l = static_cast<size_t>(static_cast<int64_t>(fmt.n));
        success = (l == 0) ? test_eof(L, f) : read_chars(L, f, l);
      } else {
        const char* p = fmt.is_string() ? fmt.as_string()->c_str() : nullptr;
        if (p == nullptr || p[0] != '*') arg_error(L, n, "invalid option");
        switch (p[1]) {
          case 'n':
            success = read_number(L, f);
            break;
          case 'l':
            success = read_line(L, f);
            break;
          case 'a':
            read_chars(L, f, ~size_t{0});
            success = true;
            break;
          default:
            arg_error(L, n, "invalid format");
        }
      }
      results++;
    }
  }
  if (std::ferror(f)) return push_result(L, false, nullptr);
  if (!success) L->top[-1] = Value::nil();
  return results;
}

int io_read(State* L) { return g_read(L, get_io_file(L, false), 1); }
int f_read(State* L) { return g_read(L, check_open_file(L, 1), 2); }

// The iterator of io.lines / f:lines. Upvalues: the file, and whether to
// close it at EOF (io.lines(name) does, f:lines() does not).
int io_readline(State* L) {
  Closure* self = L->ci->func->as_closure();
  LuaFile* lf = as_file(L, self->cupvals[0]);
  if (lf == nullptr || lf->f == nullptr) error(L, "file is already closed");
  bool ok = read_line(L, lf->f);
  if (std::ferror(lf->f)) error(L, "%s", std::strerror(errno));
  if (ok) return 1;
  if (!self->cupvals[1].is_falsy()) {
    L->top = L->base;
    push(L, self->cupvals[0]);
    aux_close(L);
  }
  return 0;
}

void push_lines_iterator(State* L, const Value& file, bool close_at_eof) {
  Closure* c = new_native(L, io_readline, "io_readline", 2);
  c->cupvals[0] = file;
  c->cupvals[1] = Value::boolean(close_at_eof);
  push(L, Value::function(c));
}

int f_lines(State* L) {
  check_open_file(L, 1);
  push_lines_iterator(L, arg(L, 1), false);
  return 1;
}

int io_lines(State* L) {
  if (nargs(L) == 0) {
    // Iterate over the default input (argument 1 must then be an open file).
    push(L, get_field(L, registry(L), kDefaultInputKey));
    return f_lines(L);
  }
  if (arg(L, 1).is_nil()) type_error(L, 1, kFileHandle);
  const char* filename = check_string(L, 1)->c_str();
  LuaFile* lf = new_file(L, FileKind::kRegular);
  lf->f = std::fopen(filename, "r");
  if (lf->f == nullptr) file_error(L, 1, filename);
  Value file = L->top[-1];
  push_lines_iterator(L, file, true);
  return 1;
}

// ---- writing ------------------------------------------------------------------

int g_write(State* L, FILE* f, int first) {
  int n = nargs(L);
  bool status = true;
  for (int i = first; i <= n; i++) {
    const Value& v = arg(L, i);
    if (v.is_number()) {
      char buf[64];
      int len = number2str(v.n, buf);
      status = status && std::fwrite(buf, 1, static_cast<size_t>(len), f) == static_cast<size_t>(len);
    } else {
      String* s = check_string(L, i);
      status = status && std::fwrite(s->data, 1, s->len, f) == s->len;
    }
  }
  return push_result(L, status, nullptr);
}

int io_write(State* L) { return g_write(L, get_io_file(L, true), 1); }
int f_write(State* L) { return g_write(L, check_open_file(L, 1), 2); }

int io_flush(State* L) { return push_result(L, std::fflush(get_io_file(L, true)) == 0, nullptr); }
int f_flush(State* L) { return push_result(L, std::fflush(check_open_file(L, 1)) == 0, nullptr); }

int f_seek(State* L) {
  static const int kModes[] = {SEEK_SET, SEEK_CUR, SEEK_END};
  static const char* const kNames[] = {"set", "cur", "end", nullptr};
  FILE* f = check_open_file(L, 1);
  int op = check_option(L, 2, "cur", kNames);
  long offset = static_cast<long>(opt_integer(L, 3, 0));
  if (std::fseek(f, offset, kModes[op]) != 0) return push_result(L, false, nullptr);
  push_number(L, static_cast<double>(std::ftell(f)));
  return 1;
}

int f_setvbuf(State* L) {
  static const int kModes[] = {_IONBF, _IOFBF, _IOLBF};
  static const char* const kNames[] = {"no", "full", "line", nullptr};
  FILE* f = check_open_file(L, 1);
  int op = check_option(L, 2, nullptr, kNames);
  int64_t size = opt_integer(L, 3, BUFSIZ);
  int res = std::setvbuf(f, nullptr, kModes[op], static_cast<size_t>(size));
  return push_result(L, res == 0, nullptr);
}

const NativeReg kFileMethods[] = {
    {"close", io_close},
    {"flush", f_flush},
    {"lines", f_lines},
    {"read", f_read},
    {"seek", f_seek},
    {"setvbuf", f_setvbuf},
    {"write", f_write},
    {"__gc", io_gc},
    {"__tostring", io_tostring},
    {nullptr, nullptr},
};

const NativeReg kIoLib[] = {
    {"close", io_close},
    {"flush", io_flush},
    {"input", io_input},
    {"lines", io_lines},
    {"open", io_open},
    {"output", io_output},
    {"popen", io_popen},
    {"read", io_read},
    {"tmpfile", io_tmpfile},
    {"type", io_type},
    {"write", io_write},
    {nullptr, nullptr},
};

Value new_std_file(State* L, FILE* f) {
  LuaFile* lf = new_file(L, FileKind::kStandard);
  lf->f = f;
  Value v = L->top[-1];
  L->top--;
  return v;
}

}  // namespace

void open_io(State* L) {
  Table* mt = table_new(L, 0, 10);
  push_table(L, mt);  // keep it reachable while filling it
  for (const NativeReg* r = kFileMethods; r->name != nullptr; r++) {
    set_field(L, mt, r->name, Value::function(new_native(L, r->fn, r->name)));
  }
  set_field(L, mt, "__index", Value::table(mt));
  set_field(L, registry(L), kFileHandle, Value::table(mt));
  L->top--;

  Table* io = register_lib(L, "io", kIoLib);
  Value in = new_std_file(L, stdin);
  set_field(L, io, "stdin", in);
  Value out = new_std_file(L, stdout);
  set_field(L, io, "stdout", out);
  Value err = new_std_file(L, stderr);
  set_field(L, io, "stderr", err);
  set_field(L, registry(L), kDefaultInputKey, in);
  set_field(L, registry(L), kDefaultOutputKey, out);
}

}  // namespace jitvm
