// vmodem delta make | info | apply: delta firmware packages (vmodem_fota).
// `apply PACKAGE --image STATE_OR_IMAGE` updates a stopped module's NAND
// image through the module's own journaled path (stage into the FOTA area,
// the boot-time update), printing its +QIND: "FOTA" lines on stderr.
//
// OLD/NEW are image files or firmware manifests (JSON, see
// fota/include/vmodem/fota/bundle.hpp). Exit codes: 0 ok, 2 usage, 3 I/O,
// 4 corrupt/unsupported package, 1 anything else that failed (wrong source
// firmware, not enough space). With --json, stdout carries one JSON object
// and errors add {"error": {"code": <END code>, "class": ..., "message": ...}}.
#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include <unistd.h>

#include <vmodem/fota/app_package.hpp>
#include <vmodem/fota/delta.hpp>
#include <vmodem/fota/nand_update.hpp>

#include "cli/commands.hpp"
#include "cli/firmware_image.hpp"
#include "cli/output.hpp"
#include "module/fs_config.hpp"
#include "quecpython/app_tree.hpp"
#include "quecpython/checksum_file.hpp"

namespace vmodem::cli {

namespace {

struct DeltaArgs {
  std::string old_path;
  std::string new_path;
  std::string package;
  std::string out;
  std::string image;    // apply into a module image instead of files
  std::string profile;  // with --image: overrides the one the image keeps
  std::string model = "vmodem";
  std::string old_version;
  std::string new_version;
  std::string expect_model;
  std::size_t chunk = 2048;
  std::string arch = "auto";          // auto, none, xtensa, thumb2 or aarch64
  std::string load_address;           // Thumb-2 load address, "" = from the vector table
  int format = fota::kFormatVersion;  // package container version (1 or 2)
  bool files = false;                 // make: OLD and NEW are application trees (app package)
  bool fast = false;
  bool no_verify = false;
  bool quiet = false;
  bool json = false;
};

int exit_code_for(fota::ErrorCode code) {
  switch (code) {
    case fota::ErrorCode::kBadPackage:
    case fota::ErrorCode::kUnsupported:
      return kExitCorrupt;
    case fota::ErrorCode::kIo:
      return kExitIo;
    case fota::ErrorCode::kInvalidInput:
      return kExitUsage;
    case fota::ErrorCode::kFirmwareMismatch:
    case fota::ErrorCode::kNoSpace:
    case fota::ErrorCode::kUnpackFailed:
    case fota::ErrorCode::kAborted:
    case fota::ErrorCode::kPowerLoss:
      return kExitFailure;
  }
  return kExitFailure;
}

int report(const fota::Error& error, bool as_json) {
  if (as_json) {
    print_json({{"error",
                 {{"code", fota::end_code(error.code)},
                  {"class", fota::error_code_name(error.code)},
                  {"message", error.message}}}});
  }
  return report_error(exit_code_for(error.code),
                      error.message + " (END " + std::to_string(fota::end_code(error.code)) + ")");
}

// A progress line rewritten in place ("\r") is for a person at a terminal;
// a log or a pipe gets only the result.
bool shows_progress(const DeltaArgs& args) {
  return !args.quiet && isatty(STDERR_FILENO) == 1;
}

// --arch's names (checked by the option's IsMember) to the generator's choice.
fota::Architecture architecture_named(const std::string& name) {
  if (name == "none") return fota::Architecture::kNone;
  if (name == "xtensa") return fota::Architecture::kXtensa;
  if (name == "thumb2") return fota::Architecture::kThumb2;
  if (name == "aarch64") return fota::Architecture::kAarch64;
  return fota::Architecture::kAuto;
}

// "0x08000000" (or decimal) as a 32-bit address; nullopt for "".
std::optional<std::uint32_t> parse_address(const std::string& text) {
  if (text.empty()) return std::nullopt;
  return static_cast<std::uint32_t>(std::stoull(text, nullptr, 0));
}

// The application tree `dir` as the package names its files ("/usr/...").
tl::expected<std::vector<fota::AppFile>, std::string> load_tree(const std::string& dir,
                                                                const sim::Profile& profile) {
  const sim::FileSystemSpec* usr = profile.file_system(sim::FsRole::ap);
  auto tree = sim::quecpython::load_app_tree(dir, sim::app_tree_limits(profile, *usr));
  if (!tree) return tl::unexpected(tree.error());
  std::vector<fota::AppFile> files;
  files.reserve(tree->size());
  for (auto& file : *tree)
    files.push_back({sim::quecpython::name_of(file.path), std::move(file.data)});
  return files;
}

// `delta make --files OLD_DIR NEW_DIR`: the application package for the
// profile's module (its name is the package's model).
int make_files(const DeltaArgs& args) {
  const std::string name = args.profile.empty() ? "bg95-m3-quecpython" : args.profile;
  auto profile = sim::load_profile(name);
  if (!profile) return report_error(kExitUsage, "profile " + name + ": " + profile.error().message);
  if (profile->family != sim::Family::quecpython)
    return report_error(kExitUsage, "profile " + name + " is not a QuecPython module");
  auto old_files = load_tree(args.old_path, *profile);
  if (!old_files) return report_error(kExitUsage, "OLD: " + old_files.error());
  auto new_files = load_tree(args.new_path, *profile);
  if (!new_files) return report_error(kExitUsage, "NEW: " + new_files.error());
  fota::AppMakeOptions options;
  options.thorough = !args.fast;
  options.verify = !args.no_verify;
  fota::AppMakeStats stats;
  auto package = fota::make_app_package(profile->name, *old_files, *new_files, options, &stats);
  if (!package) return report(package.error(), args.json);
  if (auto st = fota::write_file_atomic(args.out, *package); !st)
    return report(st.error(), args.json);
  if (args.json) {
    print_json({{"package", args.out},
                {"kind", "app"},
                {"model", profile->name},
                {"package_size", stats.package_size},
                {"added", stats.added},
                {"changed", stats.changed},
                {"removed", stats.removed},
                {"unchanged", stats.unchanged},
                {"seconds", stats.seconds}});
    return kExitOk;
  }
  std::cout << args.out << ": application package for " << profile->name << ", "
            << stats.package_size << " bytes in " << stats.seconds << " s: " << stats.added
            << " added, " << stats.changed << " changed, " << stats.removed << " removed ("
            << stats.unchanged << " unchanged)\n";
  return kExitOk;
}

int make(const DeltaArgs& args) {
  if (args.files) return make_files(args);
  std::error_code ec;
  if (std::filesystem::is_directory(args.old_path, ec) ||
      std::filesystem::is_directory(args.new_path, ec))
    return report_error(kExitUsage, "OLD and NEW are directories: give --files for an application");
  fota::MakeOptions options;
  options.generator.architecture = architecture_named(args.arch);
  options.generator.load_address = parse_address(args.load_address);
  options.generator.format_version = static_cast<std::uint16_t>(args.format);
  options.model = args.model;
  options.old_version = args.old_version;
  options.new_version = args.new_version;
  options.generator.thorough = !args.fast;
  options.generator.verify = !args.no_verify;
  const bool progress = shows_progress(args);
  if (progress) {
    options.generator.on_progress = [&args](int per_mille) {
      std::cerr << "\rvmodem: making " << args.out << ": " << per_mille / 10 << "%" << std::flush;
    };
  }
  auto stats = fota::make(args.old_path, args.new_path, args.out, options);
  if (progress) std::cerr << "\n";
  if (!stats) return report(stats.error(), args.json);
  if (args.json) {
    auto out = fota::to_json(*stats);
    out["package"] = args.out;
    print_json(out);
    return kExitOk;
  }
  std::cout << args.out << ": " << stats->package_size << " bytes in " << stats->seconds << " s\n";
  for (const auto& image : stats->images) {
    std::cout << "  " << image.name << ": " << image.source_size << " -> " << image.target_size
              << " bytes, patch " << image.patch_size << " ("
              << fota::algorithm_name(image.algorithm) << ")\n";
  }
  return kExitOk;
}

int info(const DeltaArgs& args) {
  auto described = fota::info(args.package);
  if (!described) return report(described.error(), args.json);
  if (args.json) {
    print_json(*described);
    return kExitOk;
  }
  const auto& j = *described;
  if (j.value("kind", std::string()) == "app") {
    std::cout << "application package " << args.package << " (format " << j["format"].get<int>()
              << ")\n"
              << "  model   " << j["model"].get<std::string>() << "\n"
              << "  files   " << j["added"].get<int>() << " added, " << j["changed"].get<int>()
              << " changed, " << j["removed"].get<int>() << " removed\n";
    for (const auto& file : j["files"]) {
      std::cout << "  " << file["change"].get<std::string>() << " "
                << file["path"].dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      if (file.contains("target_size"))
        std::cout << ": " << file["target_size"].get<std::uint64_t>() << " bytes, patch "
                  << file["patch_size"].get<std::uint64_t>();
      std::cout << "\n";
    }
    return kExitOk;
  }
  std::cout << "package " << args.package << " (format " << j["format_version"].get<int>() << ")\n"
            << "  model   " << j["model"].get<std::string>() << "\n"
            << "  update  " << j["source_version"].get<std::string>() << " -> "
            << j["target_version"].get<std::string>() << "\n"
            << "  source  sha256 " << j["source_sha256"].get<std::string>() << "\n"
            << "  target  sha256 " << j["target_sha256"].get<std::string>() << "\n";
  for (const auto& image : j["images"]) {
    std::cout << "  image " << image["name"].get<std::string>() << ": "
              << (image.contains("source")
                      ? std::to_string(image["source"]["size"].get<std::uint64_t>())
                      : std::string("new"))
              << " -> "
              << (image.contains("target")
                      ? std::to_string(image["target"]["size"].get<std::uint64_t>())
                      : std::string("removed"))
              << " bytes, patch " << image["patch_bytes"].get<std::uint64_t>() << " ("
              << image["algorithm"].get<std::string>() << ")\n";
  }
  return kExitOk;
}

// The module's update, offline: END 0 or the END code as an error.
int apply_to_image(const DeltaArgs& args) {
  auto package = fota::read_file(args.old_path, fota::kMaxImageBytes * 2);
  if (!package) return report(package.error(), args.json);
  auto fw = open_module_firmware(args.image, args.profile, false);
  if (!fw) return fw.error();
  if (auto st = fw->area->stage(*package); !st) return report(st.error(), args.json);
  fota::UpdateOptions options;
  options.on_event = [&args](const fota::UpdateEvent& e) {
    if (args.quiet) return;
    std::cerr << fota::fota_urc(e) << "\n";
  };
  auto update = fota::NandUpdate::begin(*fw->store, *fw->area, options);
  if (!update) return report(update.error(), args.json);
  if (!*update) return report_error(kExitFailure, "the package was not staged");
  if (auto st = (*update)->run(); !st) return report(st.error(), args.json);
  if (auto ok = fw->flash->lock().storage().sync(); !ok) {
    return report_error(kExitIo, "cannot write the image: " + ok.error().message());
  }
  const auto& outcome = (*update)->outcome();
  if (outcome.end_code != 0) {
    const int exit =
        outcome.end_code == 504 || outcome.end_code == 505 ? kExitCorrupt : kExitFailure;
    if (args.json) {
      print_json({{"error", {{"code", outcome.end_code}, {"message", outcome.message}}}});
    }
    return report_error(exit, outcome.message + " (END " + std::to_string(outcome.end_code) + ")");
  }
  if (args.json) {
    print_json({{"source_version", outcome.source_version},
                {"target_version", outcome.target_version},
                {"resumed", outcome.resumed},
                {"image", module_image_path(args.image).string()}});
  } else {
    std::cout << "updated " << outcome.source_version << " -> " << outcome.target_version << ": "
              << module_image_path(args.image).string() << "\n";
  }
  return kExitOk;
}

int apply(const DeltaArgs& args) {
  if (!args.image.empty()) {
    if (!args.package.empty() || !args.out.empty()) {
      return report_error(kExitUsage, "with --image, give only the PACKAGE");
    }
    return apply_to_image(args);
  }
  if (args.package.empty() || args.out.empty()) {
    return report_error(kExitUsage, "apply needs OLD PACKAGE -o OUT, or PACKAGE --image STATE");
  }
  fota::ApplyFileOptions options;
  options.apply.chunk_size = args.chunk;
  options.apply.expected_model = args.expect_model;
  const bool progress = shows_progress(args);
  if (progress) {
    options.apply.on_progress = [](int pct) {
      std::cerr << "\rvmodem: updating " << pct << "%" << std::flush;
    };
  }
  auto result = fota::apply(args.old_path, args.package, args.out, options);
  if (progress) std::cerr << "\n";
  if (!result) return report(result.error(), args.json);
  if (args.json) {
    nlohmann::json files = nlohmann::json::array();
    for (const auto& p : result->written)
      files.push_back(p.string());
    print_json({{"model", result->model},
                {"source_version", result->source_version},
                {"target_version", result->target_version},
                {"bytes_written", result->bytes_written},
                {"files", files}});
  } else {
    std::cout << "updated " << result->source_version << " -> " << result->target_version << ": "
              << args.out << "\n";
  }
  return kExitOk;
}

}  // namespace

void add_delta_command(CLI::App& app, CommandList& commands) {
  auto args = std::make_shared<DeltaArgs>();
  auto* delta = app.add_subcommand("delta", "Make, inspect and apply delta firmware packages");
  delta->require_subcommand(1);

  auto* make_cmd = delta->add_subcommand("make", "Build the package that turns OLD into NEW");
  make_cmd
      ->add_option("OLD", args->old_path,
                   "Old firmware: image file or manifest .json (--files: the old /usr tree)")
      ->required()
      ->check(CLI::ExistingPath);
  make_cmd
      ->add_option("NEW", args->new_path,
                   "New firmware: image file or manifest .json (--files: the new /usr tree)")
      ->required()
      ->check(CLI::ExistingPath);
  make_cmd->add_flag("--files", args->files,
                     "OLD and NEW are directories: an application package (QuecPython app FOTA) "
                     "of the files added, changed and removed in /usr");
  make_cmd->add_option("--profile,-p", args->profile,
                       "With --files: the QuecPython profile the package is for (default "
                       "bg95-m3-quecpython)");
  make_cmd->add_option("-o,--output", args->out, "Package file to write")->required();
  make_cmd->add_option("--model", args->model, "Model string for plain image files")
      ->capture_default_str();
  make_cmd->add_option("--old-version", args->old_version,
                       "Version of OLD (default: the manifest's, or a plain file's name)");
  make_cmd->add_option("--new-version", args->new_version,
                       "Version of NEW (default: the manifest's, or a plain file's name)");
  make_cmd->add_flag("--fast", args->fast, "One matcher pass and codec setting (larger, quicker)");
  make_cmd
      ->add_option("--arch", args->arch,
                   "Reference projection to try: auto (ESP8266 images -> xtensa, Cortex-M .bin "
                   "with a vector table -> thumb2, A64 code -> aarch64), none, xtensa, thumb2, "
                   "aarch64; the smaller of projected and plain is kept")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "none", "xtensa", "thumb2", "aarch64"}));
  make_cmd
      ->add_option("--load-address", args->load_address,
                   "With thumb2: the CPU address the images are loaded at (e.g. 0x08000000), for "
                   "images whose vector table does not say; with aarch64: lets pointers be "
                   "projected too")
      ->check([](const std::string& text) -> std::string {
        const auto bad = "not a 32-bit address: " + text;
        try {
          std::size_t used = 0;
          const auto v = std::stoull(text, &used, 0);
          return used == text.size() && v <= 0xFFFFFFFFull ? "" : bad;
        } catch (const std::exception&) {
          return bad;
        }
      });
  make_cmd
      ->add_option("--format", args->format,
                   "Package format: 2 (compact) or 1 (for appliers that predate format 2)")
      ->capture_default_str()
      ->check(CLI::Range(1, 2));
  make_cmd->add_flag("--no-verify", args->no_verify,
                     "Skip applying the package in memory before writing");
  make_cmd->add_flag("-q,--quiet", args->quiet, "No progress on stderr");
  make_cmd->add_flag("--json", args->json, "Machine-readable output");
  commands.add(make_cmd, [args] { return make(*args); });

  auto* info_cmd = delta->add_subcommand("info", "Verify a package and show what it updates");
  info_cmd->add_option("PACKAGE", args->package, "Delta package")
      ->required()
      ->check(CLI::ExistingFile);
  info_cmd->add_flag("--json", args->json, "Machine-readable output");
  commands.add(info_cmd, [args] { return info(*args); });

  auto* apply_cmd = delta->add_subcommand(
      "apply",
      "Apply a package offline: OLD PACKAGE -o OUT (firmware files), or PACKAGE --image STATE "
      "(a stopped module's NAND, the module's journaled update)");
  apply_cmd
      ->add_option("OLD", args->old_path,
                   "Current firmware: image file or manifest .json (with --image: the PACKAGE)")
      ->required()
      ->check(CLI::ExistingFile);
  apply_cmd->add_option("PACKAGE", args->package, "Delta package")->check(CLI::ExistingFile);
  apply_cmd->add_option("-o,--output", args->out,
                        "New image file (single image) or directory (bundle + manifest.json)");
  apply_cmd
      ->add_option("--image", args->image,
                   "Module state directory or NAND image to update in place (as at power-on)")
      ->check(CLI::ExistingPath);
  apply_cmd->add_option("--profile,-p", args->profile,
                        "With --image: the module's profile (default: the one the image keeps)");
  apply_cmd->add_option("--expect-model", args->expect_model, "Refuse packages for another model");
  apply_cmd->add_option("--chunk", args->chunk, "Bytes per write (a NAND page)")
      ->capture_default_str()
      ->check(kNotNegative & CLI::Range(std::size_t{1}, std::size_t{16} << 20));
  apply_cmd->add_flag("-q,--quiet", args->quiet, "No progress on stderr");
  apply_cmd->add_flag("--json", args->json, "Machine-readable output");
  commands.add(apply_cmd, [args] { return apply(*args); });
}

}  // namespace vmodem::cli
