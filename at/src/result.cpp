#include <algorithm>
#include <array>
#include <utility>

#include <vmodem/at/result.hpp>

namespace vmodem::at {

std::string_view verbose_text(ResultCode code) noexcept {
  switch (code) {
    case ResultCode::kOk:
      return "OK";
    case ResultCode::kConnect:
      return "CONNECT";
    case ResultCode::kRing:
      return "RING";
    case ResultCode::kNoCarrier:
      return "NO CARRIER";
    case ResultCode::kError:
      return "ERROR";
    case ResultCode::kNoDialtone:
      return "NO DIALTONE";
    case ResultCode::kBusy:
      return "BUSY";
    case ResultCode::kNoAnswer:
      return "NO ANSWER";
  }
  return "ERROR";
}

namespace {

// 3GPP TS 27.007 §9.2 general codes that host stacks commonly meet, and the
// Quectel file-system codes the file commands report (SPEC §3). Sorted.
constexpr std::array kCmeTexts{
    std::pair<int, std::string_view>{0, "phone failure"},
    std::pair<int, std::string_view>{1, "no connection to phone"},
    std::pair<int, std::string_view>{3, "operation not allowed"},
    std::pair<int, std::string_view>{4, "operation not supported"},
    std::pair<int, std::string_view>{5, "PH-SIM PIN required"},
    std::pair<int, std::string_view>{10, "SIM not inserted"},
    std::pair<int, std::string_view>{11, "SIM PIN required"},
    std::pair<int, std::string_view>{12, "SIM PUK required"},
    std::pair<int, std::string_view>{13, "SIM failure"},
    std::pair<int, std::string_view>{14, "SIM busy"},
    std::pair<int, std::string_view>{15, "SIM wrong"},
    std::pair<int, std::string_view>{16, "incorrect password"},
    std::pair<int, std::string_view>{17, "SIM PIN2 required"},
    std::pair<int, std::string_view>{18, "SIM PUK2 required"},
    std::pair<int, std::string_view>{20, "memory full"},
    std::pair<int, std::string_view>{21, "invalid index"},
    std::pair<int, std::string_view>{22, "not found"},
    std::pair<int, std::string_view>{23, "memory failure"},
    std::pair<int, std::string_view>{24, "text string too long"},
    std::pair<int, std::string_view>{25, "invalid characters in text string"},
    std::pair<int, std::string_view>{26, "dial string too long"},
    std::pair<int, std::string_view>{27, "invalid characters in dial string"},
    std::pair<int, std::string_view>{30, "no network service"},
    std::pair<int, std::string_view>{31, "network timeout"},
    std::pair<int, std::string_view>{32, "network not allowed - emergency calls only"},
    std::pair<int, std::string_view>{50, "incorrect parameters"},
    std::pair<int, std::string_view>{100, "unknown"},
    std::pair<int, std::string_view>{400, "invalid input value"},
    std::pair<int, std::string_view>{401, "larger than the size of the file"},
    std::pair<int, std::string_view>{402, "read zero byte"},
    std::pair<int, std::string_view>{403, "drive full"},
    std::pair<int, std::string_view>{405, "file not found"},
    std::pair<int, std::string_view>{406, "invalid file name"},
    std::pair<int, std::string_view>{407, "file already exists"},
    std::pair<int, std::string_view>{409, "fail to write the file"},
    std::pair<int, std::string_view>{410, "fail to open the file"},
    std::pair<int, std::string_view>{411, "fail to read the file"},
    std::pair<int, std::string_view>{413, "too many open files"},
    std::pair<int, std::string_view>{414, "file is read-only"},
    std::pair<int, std::string_view>{416, "invalid file handle"},
    std::pair<int, std::string_view>{417, "fail to list the file"},
    std::pair<int, std::string_view>{418, "fail to delete the file"},
    std::pair<int, std::string_view>{419, "fail to get disk info"},
    std::pair<int, std::string_view>{420, "no space"},
    std::pair<int, std::string_view>{421, "time out"},
    std::pair<int, std::string_view>{423, "file too large"},
    std::pair<int, std::string_view>{425, "invalid parameter"},
    std::pair<int, std::string_view>{426, "file already open"},
};

}  // namespace

std::optional<std::string_view> builtin_cme_text(int code) noexcept {
  const auto* found =
      std::lower_bound(kCmeTexts.begin(), kCmeTexts.end(), code,
                       [](const auto& entry, int key) { return entry.first < key; });
  if (found != kCmeTexts.end() && found->first == code) return found->second;
  return std::nullopt;
}

}  // namespace vmodem::at
