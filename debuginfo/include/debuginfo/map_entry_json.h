// The JSON form of a /proc/PID/maps entry and of an address, shared by the
// files that carry maps (snapshot files, tombstones) so that both read and
// write them alike. The readers throw (std::runtime_error or nlohmann's
// exceptions) on malformed input; their callers turn that into an error that
// names the file.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>

#include "debuginfo/process_maps.h"

namespace jitscope {

nlohmann::json MapEntryToJson(const MapEntry& map);
MapEntry MapEntryFromJson(const nlohmann::json& json);
// "0x7f12..." or "7f12...": at most 16 hex digits, nothing else.
uint64_t ParseHexJson(const nlohmann::json& json);

}  // namespace jitscope
