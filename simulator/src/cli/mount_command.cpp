// vmodem mount IMAGE PARTITION DIR: one file system of a module image at a
// host directory over FUSE, served in the foreground until Ctrl-C or
// `fusermount3 -u DIR`. Host file operations run through the module's own
// file-system code, so they cost (and wear) NAND pages like the module's.
#include <iostream>

#include <vmodem/fs/fuse.hpp>

#include "cli/commands.hpp"
#include "cli/fs_access.hpp"
#include "cli/output.hpp"

namespace vmodem::cli {

namespace {

struct MountArgs {
  FsTarget target;
  std::string dir;
  bool read_only = false;
  bool debug = false;
};

int mount(const MountArgs& args) {
  std::string why;
  if (!fs::fuse_available(&why))
    return report_error(kExitUnavailable, "FUSE is not available here: " + why);
  auto opened = mount_or_report(args.target, args.read_only);
  if (!opened) return opened.error();
  fs::FuseOptions options;
  options.read_only = args.read_only;
  options.debug = args.debug;
  options.fs_name = "vmodem:" + opened->entry->spec.name;
  std::cerr << "vmodem: " << opened->entry->spec.name << " of " << args.target.image
            << " mounted at " << args.dir << (args.read_only ? " (read-only)" : "")
            << "; Ctrl-C or `fusermount3 -u " << args.dir << "` to unmount\n";
  // FUSE serves it from its own thread: the file system goes behind its lock.
  fs::SharedFileSystem shared(std::move(opened->fs));
  auto served = fs::mount(shared, args.dir, options);
  if (!served) return report_fs_error("mount " + args.dir, served.error());
  // Files the host left open are committed here, and the image file flushed.
  if (args.read_only) return kExitOk;
  if (auto ok = shared.lock()->sync(); !ok) return report_fs_error("sync", ok.error());
  if (auto ok = opened->flash->lock().storage().sync(); !ok)
    return report_error(kExitIo, "cannot write the image: " + ok.error().message());
  return kExitOk;
}

}  // namespace

void add_mount_command(CLI::App& app, CommandList& commands) {
  auto args = std::make_shared<MountArgs>();
  auto* cmd = app.add_subcommand(
      "mount", "Mount a file system of a module image at a host directory (FUSE, foreground)");
  cmd->add_option("IMAGE", args->target.image, "Module image")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("PARTITION", args->target.partition,
                  "File-system partition: a name (efs2, usrfs) or modem / ap")
      ->required();
  cmd->add_option("DIR", args->dir, "Mount point (an existing directory)")
      ->required()
      ->check(CLI::ExistingDirectory);
  cmd->add_option("--profile,-p", args->target.profile,
                  "Profile (default: the one recorded in the image)");
  cmd->add_flag("--read-only", args->read_only, "Mount read-only (the image is never written)");
  cmd->add_flag("--debug", args->debug, "Log every FUSE request on stderr");
  commands.add(cmd, [args] { return mount(*args); });
}

}  // namespace vmodem::cli
