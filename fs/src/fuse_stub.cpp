// Built without libfuse3: every entry point reports it clearly.
#include <vmodem/fs/fuse.hpp>

namespace vmodem::fs {

bool fuse_available(std::string* why) {
  if (why) *why = "vmodem was built without libfuse3 (install libfuse3-dev and rebuild)";
  return false;
}

bool clear_dead_mount(const std::filesystem::path&) {
  return false;
}

Status mount(SharedFileSystem&, const std::filesystem::path&, const FuseOptions&) {
  return fail(Errc::unsupported, "built without libfuse3");
}

struct FuseMount::State {
  std::filesystem::path dir;
};
FuseMount::FuseMount(std::unique_ptr<State> state) : state_(std::move(state)) {}
FuseMount::~FuseMount() = default;
Result<std::unique_ptr<FuseMount>> FuseMount::start(SharedFileSystem&, const std::filesystem::path&,
                                                    const FuseOptions&) {
  return fail(Errc::unsupported, "built without libfuse3");
}
Status FuseMount::stop() {
  return {};
}
void FuseMount::detach(bool) {}
void FuseMount::attach(SharedFileSystem&) {}
bool FuseMount::attached() const {
  return false;
}
const std::filesystem::path& FuseMount::dir() const {
  return state_->dir;
}
bool FuseMount::running() const {
  return false;
}

}  // namespace vmodem::fs
