// The Quectel file commands on the AP file system ("UFS"): AT+QFLDS, +QFLST,
// +QFUPL, +QFDWL, +QFDEL, +QFOPEN, +QFREAD, +QFWRITE, +QFSEEK, +QFCLOSE.
// Behaviour: ../shared/SPEC.md §3 and README "File commands".
#pragma once

#include <functional>
#include <memory>

#include <vmodem/at/registry.hpp>
#include <vmodem/fs/shared.hpp>

namespace vmodem::sim {

// How the file commands reach the module's AP file system.
struct FileCommandContext {
  // The mounted AP file system, or nullptr (powered off, booting, being
  // restored). Called on the AT executor for every command; the commands
  // reach it through its lock (FUSE may share the instance).
  // A call that fails for lack of power needs no report: the module learns
  // of a cut from its fault injector.
  std::function<fs::SharedFileSystem*()> ap_fs;
};

namespace files {
struct FileState;
}  // namespace files

// The file commands' state of one module: its open handles (+QFOPEN) and
// uploads in progress. Nothing is shared between modules.
class FileHandles {
 public:
  explicit FileHandles(std::shared_ptr<files::FileState> state) : state_(std::move(state)) {}
  // Drops every handle and upload (the module reset or lost power): the
  // host's handles are invalid after a reset, as on the real module.
  void reset();

 private:
  std::shared_ptr<files::FileState> state_;
};

// Registers the file commands (gate kNeedsAppRdy) in `registry`; their state
// lives as long as the registry's handlers and the returned FileHandles.
FileHandles register_file_commands(at::Registry& registry, FileCommandContext context);

}  // namespace vmodem::sim
