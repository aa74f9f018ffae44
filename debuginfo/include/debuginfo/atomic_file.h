// Files other tools read while we write them (snapshots, tombstones, record
// summaries) are written whole or not at all: the parts go to PATH.tmp.PID
// beside PATH (rename(2) is atomic only within one file system), are
// fsync'ed, and the temporary file is renamed over PATH. On failure the
// temporary file is removed and the error names the file.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>

#include "debuginfo/result.h"

namespace jitscope {

Result<bool> WriteFileAtomically(const std::string& path, std::initializer_list<std::string_view> parts);

}  // namespace jitscope
