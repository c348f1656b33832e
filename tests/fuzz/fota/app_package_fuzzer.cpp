// Fuzzes parse_app_package() (QuecPython application packages) and the
// per-file decoding. Each input is tried as is (the trailing check refuses
// nearly all of them) and resealed — its first bytes with the correct
// 8-byte SHA-256 check appended — so the header, the file table, the paths
// and the patch programs are reached. A parsed package must hold only
// valid /usr paths, sorted and unique, each patch inside the payload; an
// added file's target, when it decodes, must be exactly what the package
// says (size and digest).
#include <algorithm>
#include <cstdint>
#include <vector>

#include <vmodem/fota/app_package.hpp>
#include <vmodem/fota/digest.hpp>
#include <vmodem/fota/package.hpp>

namespace {

using namespace vmodem::fota;

void check(const std::vector<std::uint8_t>& package) {
  auto parsed = parse_app_package(package);
  if (!parsed) return;
  const AppPackage& header = *parsed;
  for (std::size_t i = 0; i < header.files.size(); ++i) {
    const AppPackageFile& file = header.files[i];
    if (!valid_app_path(file.path)) __builtin_trap();
    if (i > 0 && !(header.files[i - 1].path < file.path)) __builtin_trap();
    if (file.patch_offset > header.payload_length ||
        file.patch_length > header.payload_length - file.patch_offset)
      __builtin_trap();
    if (!file.added() || file.target_size > (1u << 20)) continue;
    auto target = app_file_target(package, header, file, {});
    if (target &&
        (target->size() != file.target_size || file_digest(*target) != file.target_digest))
      __builtin_trap();
  }
  (void)to_json(header).dump();  // paths are checked: no invalid UTF-8 reaches the JSON
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::vector<std::uint8_t> package(data, data + size);
  check(package);
  const Digest digest = sha256(package);
  package.insert(package.end(), digest.begin(), digest.begin() + kPackageCheckBytes);
  check(package);
  return 0;
}
