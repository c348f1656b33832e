// vmodem image ls | cat | put | get | rm | mkdir | fsck | format: the files in
// a module image's file systems, offline. Every tool goes through the same
// file-system code the module runs, so what they show is what the module
// would see after its next boot.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>

#include <vmodem/fs/factory.hpp>

#include "cli/commands.hpp"
#include "cli/fs_access.hpp"
#include "cli/output.hpp"
#include "commands/file_support.hpp"
#include "host_file.hpp"
#include "module/fs_config.hpp"

namespace vmodem::cli {

namespace {

struct FsArgs {
  FsTarget target;
  std::vector<std::string> paths;  // ls, rm, mkdir
  std::string path;                // cat, put, get
  std::string host_file;
  bool json = false;
  bool recursive = false;
  bool parents = false;
  bool deep = false;
  bool no_critical = false;
  bool yes = false;
  bool empty = false;
  bool all = false;  // ls: the firmware's own entries too
};

std::string join(const std::string& dir, const std::string& name) {
  return dir == "/" || dir.empty() ? "/" + name : dir + "/" + name;
}

std::string_view type_name(fs::FileType type) {
  return type == fs::FileType::directory ? "directory" : "file";
}

// --- ls ---

struct Listing {
  std::string path;  // the directory listed (or the file itself)
  std::vector<fs::DirEntry> entries;
};

// Lists `path` (a directory's entries, or a file as one entry) and, with
// `recursive`, every directory below it, depth first.
// Unless `all`, the firmware's own directory for uploads in progress
// (/.qfupl) is left out, as AT+QFLST leaves it out.
fs::Status collect(fs::FileSystem& fs, const std::string& path, bool recursive, bool all,
                   std::vector<Listing>& out) {
  auto st = fs.stat(path);
  if (!st) return tl::unexpected(st.error());
  if (st->type == fs::FileType::file) {
    const auto slash = path.find_last_of('/');
    out.push_back({path, {{path.substr(slash + 1), fs::FileType::file, st->size}}});
    return {};
  }
  auto entries = fs.readdir(path);
  if (!entries) return tl::unexpected(entries.error());
  if (!all && (path == "/" || path.empty())) {
    std::erase_if(*entries, [](const auto& e) { return e.name == sim::files::kUploadDir; });
  }
  out.push_back({path, *entries});
  if (!recursive) return {};
  for (const auto& e : *entries) {
    if (e.type != fs::FileType::directory) continue;
    if (auto ok = collect(fs, join(path, e.name), true, all, out); !ok) return ok;
  }
  return {};
}

void print_listings(const std::vector<Listing>& listings) {
  const bool headers = listings.size() > 1;
  for (std::size_t i = 0; i < listings.size(); ++i) {
    if (headers) std::cout << (i ? "\n" : "") << listings[i].path << ":\n";
    for (const auto& e : listings[i].entries) {
      std::printf("%c %10llu  %s\n", e.type == fs::FileType::directory ? 'd' : '-',
                  static_cast<unsigned long long>(e.size), e.name.c_str());
    }
  }
  std::fflush(stdout);
}

int ls(const FsArgs& args) {
  auto opened = mount_or_report(args.target, true);
  if (!opened) return opened.error();
  std::vector<Listing> listings;
  const std::vector<std::string> paths =
      args.paths.empty() ? std::vector<std::string>{"/"} : args.paths;
  for (const auto& given : paths) {
    const std::string path = opened->inner_path(given);
    if (auto ok = collect(*opened->fs, path, args.recursive, args.all, listings); !ok)
      return report_fs_error(path, ok.error());
  }
  if (!args.json) {
    print_listings(listings);
    return kExitOk;
  }
  nlohmann::json entries = nlohmann::json::array();
  for (const auto& listing : listings) {
    for (const auto& e : listing.entries) {
      const bool self = listing.entries.size() == 1 && listing.path.ends_with("/" + e.name) &&
                        e.type == fs::FileType::file;
      entries.push_back({{"path", self ? listing.path : join(listing.path, e.name)},
                         {"name", e.name},
                         {"type", type_name(e.type)},
                         {"size", e.size}});
    }
  }
  print_json({{"partition", opened->entry->spec.name}, {"entries", entries}});
  return kExitOk;
}

// --- cat / get / put ---

int cat(const FsArgs& args) {
  auto opened = mount_or_report(args.target, true);
  if (!opened) return opened.error();
  const std::string path = opened->inner_path(args.path);
  auto data = opened->fs->read_file(path);
  if (!data) return report_fs_error(path, data.error());
  if (args.json) {
    print_json({{"path", path},
                {"size", data->size()},
                {"text", std::string(data->begin(), data->end())}});
    return kExitOk;
  }
  std::fwrite(data->data(), 1, data->size(), stdout);
  std::fflush(stdout);
  return kExitOk;
}

int get(const FsArgs& args) {
  auto opened = mount_or_report(args.target, true);
  if (!opened) return opened.error();
  const std::string path = opened->inner_path(args.path);
  auto data = opened->fs->read_file(path);
  if (!data) return report_fs_error(path, data.error());
  if (auto written =
          sim::write_host_file(args.host_file, *data, sim::file_id_of(args.target.image));
      !written)
    return report_error(kExitIo, written.error());
  if (args.json)
    print_json({{"path", path}, {"host_file", args.host_file}, {"size", data->size()}});
  return kExitOk;
}

// Creates every missing directory on the way to `path` (mkdir -p).
fs::Status make_parents(fs::FileSystem& fs, const std::string& path, bool including_last) {
  std::size_t pos = 0;
  while (true) {
    pos = path.find('/', pos + 1);
    if (pos == std::string::npos && !including_last) return {};
    const std::string prefix = path.substr(0, pos);
    if (!prefix.empty() && prefix != "/") {
      auto made = fs.mkdir(prefix);
      if (!made && made.error().code != fs::Errc::exists) return made;
    }
    if (pos == std::string::npos) return {};
  }
}

// Larger than any file a module's file system takes (the file system
// refuses past its own limit with a clear error; this only bounds memory).
constexpr std::uint64_t kMaxPutBytes = 256ull << 20;

int put(const FsArgs& args) {
  // A FIFO, a device or the image itself is refused before anything opens:
  // the host file is hostile input.
  auto read = sim::read_host_file(args.host_file, kMaxPutBytes, sim::file_id_of(args.target.image));
  if (!read) {
    const bool missing = !std::filesystem::exists(args.host_file);
    return report_error(missing ? kExitNotFound : kExitIo, read.error());
  }
  const std::vector<std::uint8_t>& data = *read;
  auto opened = mount_or_report(args.target, false);
  if (!opened) return opened.error();
  const std::string path = opened->inner_path(args.path);
  if (args.parents) {
    if (auto ok = make_parents(*opened->fs, path, false); !ok)
      return report_fs_error(path, ok.error());
  }
  if (auto ok = opened->fs->write_file(path, data); !ok) return report_fs_error(path, ok.error());
  if (const int code = sync_or_report(*opened); code != kExitOk) return code;
  if (args.json) print_json({{"path", path}, {"host_file", args.host_file}, {"size", data.size()}});
  return kExitOk;
}

// --- rm / mkdir ---

fs::Status remove(fs::FileSystem& fs, const std::string& path, bool recursive) {
  auto st = fs.stat(path);
  if (!st) return tl::unexpected(st.error());
  if (st->type == fs::FileType::file) return fs.unlink(path);
  if (recursive) {
    auto entries = fs.readdir(path);
    if (!entries) return tl::unexpected(entries.error());
    for (const auto& e : *entries) {
      if (auto ok = remove(fs, join(path, e.name), true); !ok) return ok;
    }
  }
  return fs.rmdir(path);
}

int rm(const FsArgs& args) {
  auto opened = mount_or_report(args.target, false);
  if (!opened) return opened.error();
  for (const auto& given : args.paths) {
    const std::string path = opened->inner_path(given);
    if (auto ok = remove(*opened->fs, path, args.recursive); !ok)
      return report_fs_error(path, ok.error());
  }
  if (const int code = sync_or_report(*opened); code != kExitOk) return code;
  if (args.json) print_json({{"removed", args.paths}});
  return kExitOk;
}

int mkdir(const FsArgs& args) {
  auto opened = mount_or_report(args.target, false);
  if (!opened) return opened.error();
  for (const auto& given : args.paths) {
    const std::string path = opened->inner_path(given);
    auto ok = args.parents ? make_parents(*opened->fs, path, true) : opened->fs->mkdir(path);
    if (!ok) return report_fs_error(path, ok.error());
  }
  if (const int code = sync_or_report(*opened); code != kExitOk) return code;
  if (args.json) print_json({{"created", args.paths}});
  return kExitOk;
}

// --- fsck / format ---

// The chip's number of a block of the file system (-1: not about a block):
// a partition-logical block, or in a UBI volume the PEB holding the LEB.
std::int64_t physical_of(const OpenedFs& opened, std::int64_t block) {
  const nand::Partition& partition = *opened.partition;
  if (block < 0) return -1;
  if (opened.volume) {
    const nand::ubi::Volume* volume = opened.ubi->find(opened.volume->vol_id());
    if (!volume || block >= static_cast<std::int64_t>(volume->eba.size())) return -1;
    const std::uint32_t peb = volume->eba[static_cast<std::size_t>(block)];
    if (peb == nand::ubi::kUnmapped) return -1;
    block = peb;
  }
  if (block >= static_cast<std::int64_t>(partition.spec().block_count)) return -1;
  return partition.physical_block(static_cast<std::uint32_t>(block));
}

nlohmann::json to_json(const fs::CheckFailure& f, const OpenedFs& opened) {
  return {{"probe", f.is_data_error() ? nlohmann::json(nullptr) : nlohmann::json(f.number())},
          {"check", f.name()},
          {"data_error", f.is_data_error()},
          {"block", f.block},
          {"physical_block", physical_of(opened, f.block)},
          {"page", f.page},
          {"object", f.object},
          {"path", f.path},
          {"message", f.message}};
}

int fsck(const FsArgs& args) {
  auto opened = open_partition_or_report(args.target, true);
  if (!opened) return opened.error();
  // What the boot checks (probes 7 and 8: the files the module cannot come
  // up without), unless asked not to.
  fs::CheckOptions options;
  if (!args.no_critical)
    options = sim::boot_checks(opened->flash->profile(), *opened->spec,
                               opened->flash->manufacture_seed());
  options.deep = args.deep;
  const auto report =
      fs::FileSystem::fsck(opened->device(), sim::fs_config(opened->flash->profile()), options);
  if (args.json) {
    nlohmann::json failures = nlohmann::json::array();
    for (const auto& f : report.failures)
      failures.push_back(to_json(f, *opened));
    print_json({{"partition", opened->entry->spec.name},
                {"clean", report.ok()},
                {"failures", failures},
                {"pages_scanned", report.pages_scanned},
                {"objects", report.objects},
                {"torn_pages_explained", report.torn_pages_explained}});
  } else {
    std::cout << opened->entry->spec.name << ": " << report.pages_scanned << " pages, "
              << report.objects << " objects, " << report.torn_pages_explained
              << " torn pages explained: "
              << (report.ok() ? "clean" : std::to_string(report.failures.size()) + " failures")
              << "\n";
    for (const auto& f : report.failures)
      std::cout << "  " << f.describe(physical_of(*opened, f.block)) << "\n";
  }
  return report.ok() ? kExitOk : kExitFailure;
}

int format(const FsArgs& args) {
  if (!args.yes) {
    return report_error(kExitUsage, "format erases every file in " + args.target.partition +
                                        " (then installs the factory files, unless --empty); "
                                        "nothing was changed: add --yes to confirm");
  }
  auto opened = open_partition_or_report(args.target, false);
  if (!opened) return opened.error();
  auto config = sim::fs_config(opened->flash->profile());
  config.clock = [] { return sim::kFactoryFileTime; };  // the factory files' date
  const std::uint64_t seed = opened->flash->manufacture_seed();
  fs::FormatOptions options;
  options.volume_id = seed;
  if (auto ok = fs::FileSystem::format(opened->device(), config, options); !ok)
    return report_fs_error("format " + opened->entry->spec.name, ok.error());
  auto mounted = fs::FileSystem::mount(opened->device(), config);
  if (!mounted) return report_fs_error("mount after format", mounted.error());
  opened->fs = std::move(*mounted);
  std::size_t files = 0;
  if (!args.empty) {
    // The factory content the module's production line would install.
    const auto factory = sim::factory_files(opened->flash->profile(), *opened->spec, seed);
    if (!factory) return report_error(kExitIo, factory.error());
    if (auto ok = fs::install(*opened->fs, *factory); !ok)
      return report_fs_error("installing factory files", ok.error());
    files = factory->size();
  }
  if (const int code = sync_or_report(*opened); code != kExitOk) return code;
  if (args.json) {
    print_json({{"partition", opened->entry->spec.name}, {"factory_files", files}});
  } else {
    std::cout << "formatted " << opened->entry->spec.name << " ("
              << (args.empty ? "empty" : std::to_string(files) + " factory files") << ")\n";
  }
  return kExitOk;
}

// --- registration ---

CLI::App* add_leaf(CLI::App& image, CommandList& commands, const std::shared_ptr<FsArgs>& args,
                   const std::string& name, const std::string& help, int (*action)(const FsArgs&)) {
  auto* cmd = image.add_subcommand(name, help);
  cmd->add_option("IMAGE", args->target.image, "Module image")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("PARTITION", args->target.partition,
                  "File-system partition: a name (efs2, usrfs) or modem / ap")
      ->required();
  cmd->add_option("--profile,-p", args->target.profile,
                  "Profile (default: the one recorded in the image)");
  cmd->add_flag("--json", args->json, "Machine-readable output");
  commands.add(cmd, [args, action] { return action(*args); });
  return cmd;
}

}  // namespace

void add_image_fs_commands(CLI::App& image, CommandList& commands) {
  auto args = std::make_shared<FsArgs>();
  auto* ls_cmd =
      add_leaf(image, commands, args, "ls", "List files in a file system (type, size, name)", ls);
  ls_cmd->add_option("PATH", args->paths, "Directories or files (default /)");
  ls_cmd->add_flag("-R,--recursive", args->recursive, "List subdirectories too");
  ls_cmd->add_flag("-a,--all", args->all,
                   "Also the firmware's own /.qfupl (uploads in progress), hidden by default");

  auto* cat_cmd = add_leaf(image, commands, args, "cat", "Write a file's content to stdout", cat);
  cat_cmd->add_option("PATH", args->path, "File in the file system")->required();

  auto* put_cmd = add_leaf(image, commands, args, "put", "Copy a host file into the image", put);
  put_cmd->add_option("HOSTFILE", args->host_file, "File on the host")->required();
  put_cmd->add_option("PATH", args->path, "Destination in the file system")->required();
  put_cmd->add_flag("--parents", args->parents, "Create missing parent directories");

  auto* get_cmd = add_leaf(image, commands, args, "get", "Copy a file out of the image", get);
  get_cmd->add_option("PATH", args->path, "File in the file system")->required();
  get_cmd->add_option("HOSTFILE", args->host_file, "Destination on the host")->required();

  auto* rm_cmd = add_leaf(image, commands, args, "rm",
                          "Remove files (and empty directories; -r: whole trees)", rm);
  rm_cmd->add_option("PATH", args->paths, "Files or directories")->required();
  rm_cmd->add_flag("-r,--recursive", args->recursive, "Remove directories with their content");

  auto* mkdir_cmd = add_leaf(image, commands, args, "mkdir", "Create directories", mkdir);
  mkdir_cmd->add_option("PATH", args->paths, "Directories to create")->required();
  mkdir_cmd->add_flag("--parents", args->parents, "Create missing parents; no error if present");

  auto* fsck_cmd =
      add_leaf(image, commands, args, "fsck",
               "Check a file system (exit 0 clean, 1 damaged; every failure listed)", fsck);
  fsck_cmd->add_flag("--deep", args->deep,
                     "Also read every live data page (data errors, which no boot probe sees)");
  fsck_cmd->add_flag("--no-critical", args->no_critical,
                     "Skip the boot-critical files (probes 7 and 8: presence and CRC-32)");

  auto* format_cmd = add_leaf(image, commands, args, "format",
                              "Erase a file system and install its factory files", format);
  format_cmd->add_flag("--yes", args->yes, "Confirm: every file in the partition is lost");
  format_cmd->add_flag("--empty", args->empty, "Leave it empty (no factory files)");
}

}  // namespace vmodem::cli
