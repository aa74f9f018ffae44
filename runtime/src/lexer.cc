#include "lexer.h"

#include <climits>
#include <cstdio>

#include "api.h"

namespace jitvm {

namespace {

// Lua 5.1 runs in the C locale: only ASCII counts as letters, digits and space.
bool is_digit(int c) { return c >= '0' && c <= '9'; }
bool is_alpha(int c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_alnum(int c) { return is_alpha(c) || is_digit(c); }
bool is_space(int c) { return c == ' ' || (c >= '\t' && c <= '\r'); }
bool is_cntrl(int c) { return (c >= 0 && c < 32) || c == 127; }

const char* const kTokenNames[] = {
    "and", "break", "do", "else", "elseif", "end", "false", "for", "function", "if", "in",
    "local", "nil", "not", "or", "repeat", "return", "then", "true", "until", "while",
    "..", "...", "==", ">=", "<=", "~=", "<number>", "<name>", "<string>", "<eof>"};
static_assert(sizeof(kTokenNames) / sizeof(kTokenNames[0]) == TK_EOS - kFirstReserved + 1);

}  // namespace

thread_local ChunkReader* tls_chunk_reader = nullptr;

int Lexer::refill() {
  if (!reader_) return kEoz;
  if (!(*reader_)(&piece_) || piece_.empty()) {
    reader_ = nullptr;
    return kEoz;
  }
  src_ = piece_.data();
  len_ = piece_.size();
  pos_ = 0;
  return static_cast<unsigned char>(src_[pos_++]);
}

Lexer::Lexer(State* L, const char* src, size_t len, String* source, int syntax_depth)
    : L(L), source(source), syntax_depth(syntax_depth), src_(src), len_(len) {
  reader_ = tls_chunk_reader;
  tls_chunk_reader = nullptr;
  for (int i = 0; i < kNumReserved; i++) {
    String* s = new_fixed_string(L, kTokenNames[i]);
    s->reserved = static_cast<uint8_t>(i + 1);
  }
  advance();
}

String* Lexer::new_string(const char* s, size_t len) { return jitvm::new_string(L, s, len); }

std::string Lexer::token_to_str(int token) {
  if (token < kFirstReserved) {
    char buf[16];
    if (is_cntrl(token))
      std::snprintf(buf, sizeof buf, "char(%d)", token);
    else
      std::snprintf(buf, sizeof buf, "%c", token);
    return buf;
  }
  return kTokenNames[token - kFirstReserved];
}

// Names, strings and numbers are quoted as their source text, which is still in
// the buffer (possibly unfinished, as in "unfinished string near '"abc'").
std::string Lexer::token_text(int token) const {
  switch (token) {
    case TK_NAME:
    case TK_STRING:
    case TK_NUMBER:
      // The buffer may hold embedded NULs; Lua prints it as a C string.
      return std::string(buff_.c_str());
    default:
      return token_to_str(token);
  }
}

// llex.c formats the chunk id of syntax errors in a buffer of MAXSRC bytes,
// larger than the LUA_IDSIZE of runtime errors, so long names are cut later.
constexpr size_t kMaxSrc = 80;

void Lexer::lex_error(const std::string& msg, int token) {
  std::string full = chunk_id(source, /*bufflen=*/kMaxSrc) + ":" + std::to_string(linenumber) + ": " + msg;
  if (token) full += " near '" + token_text(token) + "'";
  throw CompileError{full};
}

bool Lexer::check_next(const char* set) {
  if (current_ == kEoz) return false;
  for (const char* p = set; *p; p++) {
    if (*p == current_) {
      save_and_advance();
      return true;
    }
  }
  return false;
}

void Lexer::inc_line_number() {
  int old = current_;
  advance();  // skip '\n' or '\r'
  if (current_is_newline() && current_ != old) advance();  // "\n\r" or "\r\n" is one line
  if (++linenumber >= INT_MAX) syntax_error("chunk has too many lines");
}

// After '[' or ']': returns the level of a long bracket, or -1 when the
// bracket is not followed by '=' and a second bracket (and -(level+1) when
// there were '=' signs but no closing bracket).
int Lexer::skip_sep() {
  int count = 0;
  int s = current_;
  save_and_advance();
  while (current_ == '=') {
    save_and_advance();
    count++;
  }
  return current_ == s ? count : (-count) - 1;
}

// `info` is null for a long comment.
void Lexer::read_long_string(TokenInfo* info, int sep) {
  save_and_advance();  // second '['
  if (current_is_newline()) inc_line_number();  // a first newline is skipped
  for (;;) {
    switch (current_) {
      case kEoz:
        lex_error(info ? "unfinished long string" : "unfinished long comment", TK_EOS);
      case '[':
        // LUA_COMPAT_LSTR == 1: Lua 5.1 rejects nested [[ at level 0.
        if (skip_sep() == sep) {
          save_and_advance();
          if (sep == 0) lex_error("nesting of [[...]] is deprecated", '[');
        }
        break;
      case ']':
        if (skip_sep() == sep) {
          save_and_advance();  // second ']'
          goto done;
        }
        break;
      case '\n':
      case '\r':
        save('\n');
        inc_line_number();
        if (!info) buff_.clear();  // comments need no text
        break;
      default:
        if (info)
          save_and_advance();
        else
          advance();
    }
  }
done:
  if (info) {
    size_t skip = 2 + static_cast<size_t>(sep);
    info->str = new_string(buff_.data() + skip, buff_.size() - 2 * skip);
  }
}

void Lexer::read_string(int del, TokenInfo* info) {
  save_and_advance();  // the delimiter
  while (current_ != del) {
    switch (current_) {
      case kEoz:
        lex_error("unfinished string", TK_EOS);
      case '\n':
      case '\r':
        lex_error("unfinished string", TK_STRING);
      case '\\': {
        int c;
        advance();  // the backslash is not kept
        switch (current_) {
          case 'a': c = '\a'; break;
          case 'b': c = '\b'; break;
          case 'f': c = '\f'; break;
          case 'n': c = '\n'; break;
          case 'r': c = '\r'; break;
          case 't': c = '\t'; break;
          case 'v': c = '\v'; break;
          case '\n':
          case '\r':
            save('\n');
            inc_line_number();
            continue;
          case kEoz:
            continue;  // the loop reports the unfinished string
          default:
            if (!is_digit(current_)) {
              save_and_advance();  // \\, \", \' and any other character stand for themselves
            } else {
              int i = 0;
              c = 0;
              do {
                c = 10 * c + (current_ - '0');
                advance();
              } while (++i < 3 && is_digit(current_));
              if (c > UCHAR_MAX) lex_error("escape sequence too large", TK_STRING);
              save(c);
            }
            continue;
        }
        save(c);
        advance();
        continue;
      }
      default:
        save_and_advance();
    }
  }
  save_and_advance();  // closing delimiter
  info->str = new_string(buff_.data() + 1, buff_.size() - 2);
}

void Lexer::read_numeral(TokenInfo* info) {
  do {
    save_and_advance();
  } while (is_digit(current_) || current_ == '.');
  if (check_next("Ee")) check_next("+-");
  // Letters are swallowed so that "3x" is one malformed numeral and "0x1F" reaches str2number.
  while (is_alnum(current_) || current_ == '_') save_and_advance();
  if (!str2number(buff_.data(), buff_.size(), &info->num)) lex_error("malformed number", TK_NUMBER);
}

int Lexer::llex(TokenInfo* info) {
  buff_.clear();
  for (;;) {
    switch (current_) {
      case '\n':
      case '\r':
        inc_line_number();
        continue;
      case '-': {
        advance();
        if (current_ != '-') return '-';
        advance();
        if (current_ == '[') {
          int sep = skip_sep();
          buff_.clear();
          if (sep >= 0) {
            read_long_string(nullptr, sep);
            buff_.clear();
            continue;
          }
        }
        while (!current_is_newline() && current_ != kEoz) advance();
        continue;
      }
      case '[': {
        int sep = skip_sep();
        if (sep >= 0) {
          read_long_string(info, sep);
          return TK_STRING;
        }
        if (sep == -1) return '[';
        lex_error("invalid long string delimiter", TK_STRING);
      }
      case '=':
        advance();
        if (current_ != '=') return '=';
        advance();
        return TK_EQ;
      case '<':
        advance();
        if (current_ != '=') return '<';
        advance();
        return TK_LE;
      case '>':
        advance();
        if (current_ != '=') return '>';
        advance();
        return TK_GE;
      case '~':
        advance();
        if (current_ != '=') return '~';
        advance();
        return TK_NE;
      case '"':
      case '\'':
        read_string(current_, info);
        return TK_STRING;
      case '.':
        save_and_advance();
        if (check_next(".")) return check_next(".") ? TK_DOTS : TK_CONCAT;
        if (!is_digit(current_)) return '.';
        read_numeral(info);
        return TK_NUMBER;
      case kEoz:
        return TK_EOS;
      default: {
        if (is_space(current_)) {
          advance();
          continue;
        }
        if (is_digit(current_)) {
          read_numeral(info);
          return TK_NUMBER;
        }
        if (is_alpha(current_) || current_ == '_') {
          do {
            save_and_advance();
          } while (is_alnum(current_) || current_ == '_');
          String* ts = new_string(buff_.data(), buff_.size());
          if (ts->reserved > 0) return ts->reserved - 1 + kFirstReserved;
          info->str = ts;
          return TK_NAME;
        }
        int c = current_;
        advance();
        return c;
      }
    }
  }
}

void Lexer::next() {
  lastline = linenumber;
  if (ahead.token != TK_EOS) {
    t = ahead;
    ahead.token = TK_EOS;
  } else {
    t.token = llex(&t);
  }
}

void Lexer::lookahead() { ahead.token = llex(&ahead); }

}  // namespace jitvm
