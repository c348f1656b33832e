// The Quectel file commands on the AP file system ("UFS"): AT+QFLDS, +QFLST,
// +QFUPL, +QFDWL, +QFDEL, +QFOPEN, +QFREAD, +QFWRITE, +QFSEEK, +QFCLOSE.
// Behaviour: ../shared/SPEC.md §3 and README "File commands".
#pragma once

#include <functional>

#include <vmodem/at/registry.hpp>
#include <vmodem/fs/filesystem.hpp>

namespace vmodem::sim {

// How the file commands reach the module's AP file system.
struct FileCommandContext {
  // The mounted AP file system, or nullptr (powered off, booting, being
  // restored). Called on the AT executor for every command; the commands hold
  // fs->mutex() around each file-system call (FUSE may share the instance).
  std::function<fs::FileSystem*()> ap_fs;
  // Told when a file-system call failed because the flash lost power or died
  // (fs errors power_loss / io_error), so the module can notice. May be empty.
  std::function<void()> on_flash_failure;
};

// Registers the file commands (gate kNeedsAppRdy) in `registry`. Open
// handles (+QFOPEN) belong to the registry's module and are dropped by
// reset_file_handles() when the module resets or loses power.
void register_file_commands(at::Registry& registry, FileCommandContext context);
void reset_file_handles();

}  // namespace vmodem::sim
