// vmodem firmware build | info | export | stage: bundle files from
// manifests, the firmware of a module image (A/B slots, boot records, the
// FOTA area), of manifests and of bundles; the running firmware exported as
// files to build updates from; offline staging of a delta package that the
// next `vmodem run` applies with the +QIND: "FOTA" URCs.
//
// Exit codes: 0 ok, 1 failure, 2 usage, 3 I/O, 4 corrupt (no valid firmware
// or a damaged package), 5 not found.
#include <array>
#include <fstream>
#include <iostream>
#include <memory>

#include <vmodem/fota/bundle.hpp>
#include <vmodem/fota/package.hpp>

#include "cli/commands.hpp"
#include "cli/firmware_image.hpp"
#include "cli/output.hpp"
#include "module/fota_firmware.hpp"

namespace vmodem::cli {

std::filesystem::path module_image_path(const std::filesystem::path& state_or_image) {
  std::error_code ec;
  if (std::filesystem::is_directory(state_or_image, ec)) return state_or_image / "nand.img";
  return state_or_image;
}

tl::expected<ModuleFirmware, int> open_module_firmware(const std::filesystem::path& state_or_image,
                                                       const std::string& profile, bool read_only) {
  ModuleFirmware fw;
  const auto image = module_image_path(state_or_image);
  std::error_code ec;
  if (!std::filesystem::exists(image, ec)) {
    return tl::unexpected(report_error(kExitNotFound, image.string() + ": no such module image"));
  }
  auto flash = open_image_or_report(image, profile, read_only);
  if (!flash) return tl::unexpected(flash.error());
  fw.flash = std::move(*flash);
  const auto& p = fw.flash->profile();
  auto layout = sim::firmware_layout(p);
  if (!layout) return tl::unexpected(report_error(kExitFailure, layout.error()));
  auto store = fota::FirmwareStore::open(fw.flash->device(), *layout);
  if (!store) return tl::unexpected(report_error(kExitCorrupt, store.error().message));
  fw.store = std::move(*store);
  auto spec = sim::fota_partition(p);
  if (!spec) return tl::unexpected(report_error(kExitFailure, spec.error()));
  auto area = fota::FotaArea::open(fw.flash->device(), *spec);
  if (!area) return tl::unexpected(report_error(kExitCorrupt, area.error().message));
  fw.area = std::move(*area);
  return fw;
}

namespace {

struct FirmwareArgs {
  std::string target;
  std::string package;
  std::string out;
  std::string profile;
  bool json = false;
};

nlohmann::json images_json(const std::vector<fota::ImageIdentity>& images) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& image : images) {
    out.push_back(
        {{"name", image.name}, {"size", image.size}, {"sha256", fota::to_hex(image.digest)}});
  }
  return out;
}

int info_manifest(const FirmwareArgs& args) {
  auto bundle = fota::load_bundle(args.target);
  if (!bundle) {
    return report_error(bundle.error().code == fota::ErrorCode::kIo ? kExitIo : kExitUsage,
                        bundle.error().message);
  }
  std::vector<fota::ImageIdentity> ids;
  for (const auto& image : bundle->images)
    ids.push_back({image.name, image.data.size(), fota::sha256(image.data)});
  const nlohmann::json out = {{"kind", "bundle"},
                              {"model", bundle->model},
                              {"version", bundle->version},
                              {"firmware_sha256", fota::to_hex(fota::firmware_digest(*bundle))},
                              {"images", images_json(ids)}};
  if (args.json) {
    print_json(out);
    return kExitOk;
  }
  std::cout << args.target << ": " << bundle->model << " " << bundle->version << "\n";
  for (const auto& image : out["images"]) {
    std::cout << "  " << image["name"].get<std::string>() << ": "
              << image["size"].get<std::uint64_t>() << " bytes, sha256 "
              << image["sha256"].get<std::string>() << "\n";
  }
  return kExitOk;
}

int info_image(const FirmwareArgs& args) {
  auto fw = open_module_firmware(args.target, args.profile, true);
  if (!fw) return fw.error();
  nlohmann::json records = nlohmann::json::array();
  for (const auto& r : fw->store->records()) {
    records.push_back({{"generation", r.generation},
                       {"slot", r.slot == 0 ? "A" : "B"},
                       {"copy", r.copy},
                       {"model", r.model},
                       {"version", r.version},
                       {"installed_by", fota::to_hex(r.installed_by)},
                       {"images", images_json(r.images)}});
  }
  nlohmann::json out = {
      {"kind", "module"}, {"image", module_image_path(args.target).string()}, {"records", records}};
  auto loaded = fw->store->load();
  if (loaded) {
    out["running"] = {{"version", loaded->record.version},
                      {"slot", loaded->record.slot == 0 ? "A" : "B"},
                      {"fell_back", loaded->fell_back}};
    if (loaded->fell_back) out["running"]["why"] = loaded->why;
  } else {
    out["running"] = nullptr;
    out["problem"] = loaded.error().message;
  }
  auto staged = fw->area->staged();
  if (staged && *staged) {
    nlohmann::json s = {{"bytes", (*staged)->bytes.size()}, {"intact", (*staged)->intact}};
    if (auto header = fota::parse_package((*staged)->bytes)) {
      s["source_version"] = header->source_version;
      s["target_version"] = header->target_version;
    }
    out["staged"] = s;
  } else {
    out["staged"] = nullptr;
  }
  out["fota_capacity"] = fw->area->capacity();
  if (args.json) {
    print_json(out);
  } else {
    std::cout << out["image"].get<std::string>() << ": ";
    if (loaded) {
      std::cout << "runs " << loaded->record.version << " from slot "
                << out["running"]["slot"].get<std::string>()
                << (loaded->fell_back ? " (fell back: " + loaded->why + ")" : "") << "\n";
    } else {
      std::cout << "no bootable firmware (" << loaded.error().message << ")\n";
    }
    for (const auto& r : fw->store->records()) {
      std::cout << "  record gen " << r.generation << ": slot " << (r.slot == 0 ? "A" : "B") << ", "
                << r.model << " " << r.version << "\n";
      for (const auto& image : r.images)
        std::cout << "    " << image.name << ": " << image.size << " bytes\n";
    }
    if (out["staged"].is_null()) {
      std::cout << "  FOTA area: empty (holds up to " << fw->area->capacity() << " bytes)\n";
    } else {
      std::cout << "  FOTA area: " << out["staged"]["bytes"].get<std::uint64_t>()
                << "-byte package staged"
                << (out["staged"]["intact"].get<bool>() ? "" : " (damaged)") << "\n";
    }
  }
  return loaded ? kExitOk : kExitCorrupt;
}

bool starts_like_bundle(const std::string& path) {
  std::array<std::uint8_t, 8> head{};
  std::ifstream in(path, std::ios::binary);
  in.read(reinterpret_cast<char*>(head.data()), head.size());
  return in.gcount() == static_cast<std::streamsize>(head.size()) && fota::is_bundle_file(head);
}

int info(const FirmwareArgs& args) {
  if (args.target.ends_with(".json") || starts_like_bundle(args.target)) {
    return info_manifest(args);
  }
  return info_image(args);
}

int build(const FirmwareArgs& args) {
  auto bundle = fota::load_bundle(args.target);
  if (!bundle) {
    return report_error(bundle.error().code == fota::ErrorCode::kIo ? kExitIo : kExitUsage,
                        bundle.error().message);
  }
  const auto bytes = fota::serialize_bundle(*bundle);
  if (auto st = fota::write_file_atomic(args.out, bytes); !st) {
    return report_error(kExitIo, st.error().message);
  }
  if (args.json) {
    print_json({{"bundle", args.out},
                {"bytes", bytes.size()},
                {"model", bundle->model},
                {"version", bundle->version},
                {"firmware_sha256", fota::to_hex(fota::firmware_digest(*bundle))}});
  } else {
    std::cout << args.out << ": " << bundle->model << " " << bundle->version << ", "
              << bundle->images.size() << " image(s), " << bytes.size() << " bytes\n";
  }
  return kExitOk;
}

int stage(const FirmwareArgs& args) {
  auto package = fota::read_file(args.package, fota::kMaxImageBytes * 2);
  if (!package) return report_error(kExitIo, package.error().message);
  auto fw = open_module_firmware(args.target, args.profile, false);
  if (!fw) return fw.error();
  if (auto st = fw->area->stage(*package); !st) {
    return report_error(
        st.error().code == fota::ErrorCode::kNoSpace ? kExitFailure : kExitIo,
        st.error().message + " (END " + std::to_string(fota::end_code(st.error().code)) + ")");
  }
  if (auto ok = fw->flash->lock().storage().sync(); !ok) {
    return report_error(kExitIo, "cannot write the image: " + ok.error().message());
  }
  if (args.json) {
    print_json({{"staged", package->size()}, {"image", module_image_path(args.target).string()}});
  } else {
    std::cout << "staged " << package->size() << " bytes; the next power-on applies it\n";
  }
  return kExitOk;
}

// The running firmware as files a user edits and gives to `delta make`.
int export_firmware(const FirmwareArgs& args) {
  auto fw = open_module_firmware(args.target, args.profile, true);
  if (!fw) return fw.error();
  auto loaded = fw->store->load();
  if (!loaded) {
    return report_error(kExitCorrupt, module_image_path(args.target).string() +
                                          ": no bootable firmware (" + loaded.error().message +
                                          ")");
  }
  auto written =
      fota::write_bundle_directory(loaded->bundle, args.out, fota::ExistingFiles::refuse);
  if (!written) return report_error(kExitIo, written.error().message);
  const auto& bundle = loaded->bundle;
  const auto slot = loaded->record.slot == 0 ? "A" : "B";
  if (args.json) {
    std::vector<fota::ImageIdentity> ids;
    for (const auto& image : bundle.images)
      ids.push_back({image.name, image.data.size(), fota::sha256(image.data)});
    print_json({{"manifest", written->back().string()},
                {"model", bundle.model},
                {"version", bundle.version},
                {"slot", slot},
                {"images", images_json(ids)}});
    return kExitOk;
  }
  std::cout << "exported " << bundle.model << " " << bundle.version << " (slot " << slot
            << "): " << bundle.images.size() << " images and " << written->back().string() << "\n";
  return kExitOk;
}

}  // namespace

void add_firmware_command(CLI::App& app, CommandList& commands) {
  auto args = std::make_shared<FirmwareArgs>();
  auto* firmware = app.add_subcommand("firmware", "Inspect firmware and stage updates offline");
  firmware->require_subcommand(1);

  auto* build_cmd = firmware->add_subcommand(
      "build", "Pack a manifest and its image files into one firmware bundle file");
  build_cmd->add_option("MANIFEST", args->target, "Firmware manifest .json")
      ->required()
      ->check(CLI::ExistingFile);
  build_cmd->add_option("-o,--output", args->out, "Bundle file to write")->required();
  build_cmd->add_flag("--json", args->json, "Machine-readable output");
  commands.add(build_cmd, [args] { return build(*args); });

  auto* info_cmd = firmware->add_subcommand(
      "info",
      "Show a module image's firmware (slots, boot records, FOTA area), a manifest or a bundle");
  info_cmd
      ->add_option("TARGET", args->target,
                   "Module state directory, NAND image, manifest .json or bundle file")
      ->required()
      ->check(CLI::ExistingPath);
  info_cmd->add_option("--profile", args->profile, "Profile (default: the image's)");
  info_cmd->add_flag("--json", args->json, "Machine-readable output");
  commands.add(info_cmd, [args] { return info(*args); });

  auto* export_cmd = firmware->add_subcommand(
      "export",
      "Write the firmware a module runs as image files and a manifest.json (delta make's OLD)");
  export_cmd->add_option("TARGET", args->target, "Module state directory or NAND image")
      ->required()
      ->check(CLI::ExistingPath);
  export_cmd
      ->add_option("-o,--output", args->out,
                   "Directory to write (created; files already in it are never replaced)")
      ->required();
  export_cmd->add_option("--profile", args->profile, "Profile (default: the image's)");
  export_cmd->add_flag("--json", args->json, "Machine-readable output");
  commands.add(export_cmd, [args] { return export_firmware(*args); });

  auto* stage_cmd = firmware->add_subcommand(
      "stage", "Store a delta package in a stopped module's FOTA area (applied at power-on)");
  stage_cmd->add_option("PACKAGE", args->package, "Delta package")
      ->required()
      ->check(CLI::ExistingFile);
  stage_cmd->add_option("--image", args->target, "Module state directory or NAND image")
      ->required()
      ->check(CLI::ExistingPath);
  stage_cmd->add_option("--profile", args->profile, "Profile (default: the image's)");
  stage_cmd->add_flag("--json", args->json, "Machine-readable output");
  commands.add(stage_cmd, [args] { return stage(*args); });
}

}  // namespace vmodem::cli
