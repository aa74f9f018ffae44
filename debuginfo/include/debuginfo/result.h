// Error handling across library boundaries: no exceptions, a value or an
// error message that names the failing address or file.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <variant>

namespace jitscope {

struct Error {
  std::string message;
};

// "0x7f12..." — every message that names an address uses this form so that
// users can paste it into gdb.
std::string HexAddress(uint64_t address);

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Error error) : state_(std::move(error)) {}  // NOLINT: implicit by design

  bool ok() const { return std::holds_alternative<T>(state_); }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<T>(state_); }
  const T& value() const& { return std::get<T>(state_); }
  T&& value() && { return std::get<T>(std::move(state_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const std::string& error() const { return std::get<Error>(state_).message; }
  Error take_error() && { return std::get<Error>(std::move(state_)); }

 private:
  std::variant<T, Error> state_;
};

}  // namespace jitscope
