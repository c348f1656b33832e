#include <algorithm>

#include <vmodem/fota/memory_io.hpp>
#include <vmodem/fota/nand_update.hpp>

namespace vmodem::fota {

std::string_view to_string(UpdatePhase phase) {
  switch (phase) {
    case UpdatePhase::start:
      return "START";
    case UpdatePhase::restore:
      return "RESTORE";
    case UpdatePhase::updating:
      return "UPDATING";
    case UpdatePhase::end:
      return "END";
  }
  return "?";
}

std::string fota_urc(std::string_view stage) {
  return "+QIND: \"FOTA\",\"" + std::string(stage) + "\"";
}

std::string fota_urc(std::string_view stage, int value) {
  return fota_urc(stage) + "," + std::to_string(value);
}

std::string fota_urc(const UpdateEvent& event) {
  const std::string_view stage = to_string(event.phase);
  return event.phase == UpdatePhase::start ? fota_urc(stage) : fota_urc(stage, event.value);
}

struct NandUpdate::State {
  enum class Stage { apply, verify, finish, done };

  State(FirmwareStore& s, FotaArea& a, UpdateOptions o)
      : store(s), area(a), options(std::move(o)) {}

  FirmwareStore& store;
  FotaArea& area;
  UpdateOptions options;
  Stage stage = Stage::finish;
  std::vector<std::uint8_t> package;
  PackageHeader header;
  LoadedFirmware running;
  std::unique_ptr<BundleSource> source;
  std::unique_ptr<Applier> applier;
  std::unique_ptr<TargetSink> sink;
  int target_slot = 0;
  ApplyProgress journaled;
  int last_percent = 0;
  UpdateOutcome outcome;

  void emit(UpdatePhase phase, int value) {
    if (options.on_event) options.on_event(UpdateEvent{phase, value});
  }
  void updating(int percent) {
    if (percent <= last_percent) return;
    last_percent = percent;
    emit(UpdatePhase::updating, percent);
  }
  void finish_with(int code, std::string message) {
    outcome.end_code = code;
    outcome.message = std::move(message);
    stage = Stage::finish;
  }
  // A failed NAND call: with power, a flash error ends the update (502);
  // without, the error goes up and the next boot continues.
  Result<bool> flash_error(const Error& error) {
    if (error.code == ErrorCode::kPowerLoss) return tl::unexpected(error);
    finish_with(end_code(ErrorCode::kAborted), error.message);
    return false;
  }

  Status check_package();
  Result<bool> apply();
  Result<bool> verify_and_commit();
  Result<bool> finish();
};

Status NandUpdate::State::check_package() {
  auto parsed = parse_package(package);
  if (!parsed) {
    finish_with(end_code(parsed.error().code), parsed.error().message);
    return {};
  }
  header = *parsed;
  outcome.source_version = header.source_version;
  outcome.target_version = header.target_version;
  auto loaded = store.load();
  if (!loaded) {
    if (loaded.error().code == ErrorCode::kPowerLoss) {
      return tl::unexpected(loaded.error());
    }
    finish_with(end_code(ErrorCode::kFirmwareMismatch), loaded.error().message);
    return {};
  }
  running = std::move(*loaded);
  auto saved = area.last_progress(header.package_id);
  if (!saved) return tl::unexpected(saved.error());
  if (running.record.installed_by == header.package_id && *saved) {
    // Committed before a power cut withdrew the package (its journal is
    // still there): done. The same package staged anew (staging clears the
    // journal) is checked like any other, and no longer matches.
    outcome.resumed = true;
    finish_with(0, {});
    return {};
  }
  source = std::make_unique<BundleSource>(running.bundle);
  ApplyOptions apply;
  apply.chunk_size = store.page_size();
  apply.max_target_bytes = kMaxImageBytes * kMaxImages;  // per-slot limits checked below
  apply.expected_model = running.record.model;
  apply.current_version = running.record.version;
  apply.current_firmware = running.record.firmware_digest();
  auto opened = Applier::open(package, *source, apply);
  if (!opened) {
    finish_with(end_code(opened.error().code), opened.error().message);
    return {};
  }
  applier = std::move(*opened);
  target_slot = 1 - running.record.slot;
  for (const auto& image : header.images) {
    if (!image.has_target) continue;
    if (!store.has_image(image.name)) {
      finish_with(end_code(ErrorCode::kFirmwareMismatch),
                  "this module has no firmware partition for image " + image.name);
      return {};
    }
    if (image.target_size > store.capacity(image.name, target_slot)) {
      finish_with(end_code(ErrorCode::kNoSpace),
                  "image " + image.name + " needs " + std::to_string(image.target_size) +
                      " bytes, its slot holds " +
                      std::to_string(store.capacity(image.name, target_slot)));
      return {};
    }
  }
  sink = store.slot_writer(target_slot);
  if (*saved && applier->resume(**saved)) {
    outcome.resumed = true;
    journaled = **saved;
    last_percent = std::min(applier->percent(), 99);
    emit(UpdatePhase::restore, last_percent);
  }
  stage = Stage::apply;
  return {};
}

Result<bool> NandUpdate::State::apply() {
  const std::uint64_t block = store.block_bytes();
  for (std::uint32_t i = 0; i < std::max<std::uint32_t>(1, options.pages_per_step); ++i) {
    auto done = applier->step(*sink);
    if (!done) {
      if (is_flash_failure(done.error().code)) return flash_error(done.error());
      finish_with(end_code(done.error().code), done.error().message);
      return false;
    }
    // Progress is durable per block: a resume restarts at a block boundary,
    // which the slot writer erases before writing again.
    const ApplyProgress& now = applier->progress();
    if (now.image_offset % block == 0 && !(now == journaled)) {
      if (auto st = area.record_progress(now); !st) return flash_error(st.error());
      journaled = now;
    }
    // 100 is for the committed firmware.
    updating(std::min(applier->percent(), 99));
    if (*done) {
      stage = Stage::verify;
      return false;
    }
  }
  return false;
}

Result<bool> NandUpdate::State::verify_and_commit() {
  BootRecord next;
  next.slot = static_cast<std::uint8_t>(target_slot);
  next.model = header.model;
  next.version = header.target_version;
  next.installed_by = header.package_id;
  for (const auto& image : header.images) {
    if (image.has_target)
      next.images.push_back({image.name, image.target_size, image.target_digest});
  }
  // What the slot holds now, read back from the NAND, must be the target.
  auto written = store.read(next);
  if (!written) {
    if (is_flash_failure(written.error().code)) return flash_error(written.error());
    finish_with(end_code(ErrorCode::kUnpackFailed), written.error().message);
    return false;
  }
  if (next.firmware_digest() != header.target_firmware_digest) {
    finish_with(end_code(ErrorCode::kUnpackFailed), "the new firmware's digest differs");
    return false;
  }
  if (auto st = store.commit(std::move(next), &running.record); !st) return flash_error(st.error());
  finish_with(0, {});
  return false;
}

Result<bool> NandUpdate::State::finish() {
  // The outcome is durable (the new boot record, or nothing changed): say
  // so before withdrawing the package, so a cut while withdrawing it never
  // leaves the host without an END. The next boot then says it again.
  if (outcome.end_code == 0) updating(100);
  emit(UpdatePhase::end, outcome.end_code);
  stage = Stage::done;
  if (auto st = area.clear(); !st) {
    if (st.error().code == ErrorCode::kPowerLoss) return tl::unexpected(st.error());
    // The package stays staged: the next boot decides the same way again.
  }
  return true;
}

NandUpdate::NandUpdate(std::unique_ptr<State> state) : state_(std::move(state)) {}
NandUpdate::~NandUpdate() = default;

Result<std::unique_ptr<NandUpdate>> NandUpdate::begin(FirmwareStore& store, FotaArea& area,
                                                      UpdateOptions options) {
  auto staged = area.staged();
  if (!staged) return tl::unexpected(staged.error());
  if (!*staged) return std::unique_ptr<NandUpdate>();
  auto state = std::make_unique<State>(store, area, std::move(options));
  state->emit(UpdatePhase::start, 0);
  if (!(*staged)->intact) {
    state->finish_with(end_code(ErrorCode::kBadPackage), "the stored package is damaged");
  } else {
    state->package = std::move((*staged)->bytes);
    if (auto st = state->check_package(); !st) return tl::unexpected(st.error());
  }
  return std::unique_ptr<NandUpdate>(new NandUpdate(std::move(state)));
}

Result<bool> NandUpdate::step() {
  auto& s = *state_;
  switch (s.stage) {
    case State::Stage::apply:
      return s.apply();
    case State::Stage::verify:
      return s.verify_and_commit();
    case State::Stage::finish:
      return s.finish();
    case State::Stage::done:
      return true;
  }
  return true;
}

Status NandUpdate::run() {
  for (;;) {
    auto done = step();
    if (!done) return tl::unexpected(done.error());
    if (*done) return {};
  }
}

const UpdateOutcome& NandUpdate::outcome() const {
  return state_->outcome;
}

}  // namespace vmodem::fota
