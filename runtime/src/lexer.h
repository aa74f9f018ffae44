// The Lua 5.1 lexer (llex.c semantics): tokens, long brackets, escapes,
// numerals, and the exact wording of lexical and syntax error messages.
#pragma once

#include <functional>

#include <cstddef>
#include <string>

#include "value.h"

namespace jitvm {

// Single-character tokens are their own byte value; multi-character tokens
// start above the byte range, in Lua 5.1's order (the order matters: reserved
// words are identified by String::reserved - 1 + kFirstReserved).
constexpr int kFirstReserved = 257;

enum Token : int {
  TK_AND = kFirstReserved, TK_BREAK, TK_DO, TK_ELSE, TK_ELSEIF, TK_END, TK_FALSE, TK_FOR,
  TK_FUNCTION, TK_IF, TK_IN, TK_LOCAL, TK_NIL, TK_NOT, TK_OR, TK_REPEAT, TK_RETURN, TK_THEN,
  TK_TRUE, TK_UNTIL, TK_WHILE,
  // other multi-character tokens
  TK_CONCAT, TK_DOTS, TK_EQ, TK_GE, TK_LE, TK_NE, TK_NUMBER, TK_NAME, TK_STRING, TK_EOS
};
constexpr int kNumReserved = TK_WHILE - kFirstReserved + 1;

// Every compile-time error (lexical, syntactic, limits). It never leaves
// compile_chunk, which turns it into a returned message.
struct CompileError {
  std::string message;
};

struct TokenInfo {
  int token = TK_EOS;
  double num = 0;          // TK_NUMBER
  String* str = nullptr;   // TK_NAME, TK_STRING
};

// Supplies the next piece of source; returns false (or an empty piece) at the end.
// load(f) parses while it reads, as Lua 5.1's lua_load does, so a syntax error
// stops reading early.
using ChunkReader = std::function<bool(std::string* piece)>;
// Set by compile_chunk_reader for the Lexer it constructs.
extern thread_local ChunkReader* tls_chunk_reader;

class Lexer {
 public:
  // `syntax_depth` is the nesting count the syntax levels start from (Lua's
  // L->nCcalls at the time of the load).
  Lexer(State* L, const char* src, size_t len, String* source, int syntax_depth);

  void next();       // luaX_next
  void lookahead();  // luaX_lookahead (one token)

  // "chunk:line: msg" plus " near 'tok'" when token != 0.
  [[noreturn]] void lex_error(const std::string& msg, int token);
  // An error about the current token.
  [[noreturn]] void syntax_error(const std::string& msg) { lex_error(msg, t.token); }
  // The printable form of a token kind ("'end'" minus the quotes).
  static std::string token_to_str(int token);

  String* new_string(const char* s, size_t len);

  State* L;
  String* source;
  TokenInfo t;           // current token
  TokenInfo ahead;       // lookahead token (TK_EOS when none)
  int linenumber = 1;    // line of the character being read
  int lastline = 1;      // line of the last token consumed
  int syntax_depth;      // Lua's nCcalls during parsing

 private:
  int llex(TokenInfo* info);
  void advance() { current_ = pos_ < len_ ? static_cast<unsigned char>(src_[pos_++]) : refill(); }
  int refill();
  void save(int c) { buff_.push_back(static_cast<char>(c)); }
  void save_and_advance() { save(current_); advance(); }
  bool check_next(const char* set);
  bool current_is_newline() const { return current_ == '\n' || current_ == '\r'; }
  void inc_line_number();
  int skip_sep();
  void read_long_string(TokenInfo* info, int sep);
  void read_string(int del, TokenInfo* info);
  void read_numeral(TokenInfo* info);
  std::string token_text(int token) const;

  static constexpr int kEoz = -1;
  const char* src_;
  size_t len_;
  size_t pos_ = 0;
  int current_ = kEoz;
  std::string buff_;  // text of the token being (or last) read, for messages
  ChunkReader* reader_ = nullptr;  // more source on demand (load with a function)
  std::string piece_;
};

}  // namespace jitvm
