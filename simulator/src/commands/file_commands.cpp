// The Quectel file commands: registration, module-wide handle reset, and the
// commands that look at the whole file system (AT+QFLDS, +QFLST, +QFDEL).
// Uploads/downloads live in file_transfer.cpp, handle I/O in file_handles.cpp.
//
// Behaviour (BG96/BG95 and UGxx FILE AT command manuals; SPEC §3):
//   AT+QFLDS="UFS"        +QFLDS: <free>,<total>
//   AT+QFLDS              +QFLDS: <bytes in files>,<number of files>
//   AT+QFLST[="<pat>"]    +QFLST: "<name>",<size> per match (`*`, `?`);
//                         a plain name that does not exist: 405
//   AT+QFUPL="<name>"[,<size>=10240[,<timeout s>=5[,<ack>=0]]]
//                         CONNECT, bytes, +QFUPL: <size>,<xor16 hex>; 407 if
//                         the name exists, 403 if <size> exceeds free space,
//                         421 when the data stops early (no file is created)
//   AT+QFDWL="<name>"     CONNECT, bytes, +QFDWL: <size>,<xor16 hex>
//   AT+QFDEL="<name>"|"*" OK; an open file: 426 ("*" skips it)
//   AT+QFOPEN="<name>"[,<mode>]  +QFOPEN: <handle>; AT+QFOPEN? lists them
//   AT+QFREAD=<h>[,<len>]        CONNECT <n>, bytes, OK (CONNECT 0 at the end)
//   AT+QFWRITE=<h>,<len>[,<timeout s>]  CONNECT, bytes, +QFWRITE: <n>,<size>
//   AT+QFSEEK=<h>,<off>[,<from>], AT+QFPOSITION=<h>, AT+QFTUCAT=<h>, AT+QFCLOSE=<h>
// Parameters: missing or of the wrong type 400, out of range 425.

#include <algorithm>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <vmodem/simulator/file_commands.hpp>
#include <vmodem/simulator/gate.hpp>

#include "file_support.hpp"

namespace vmodem::sim {

FileHandles register_file_commands(at::Registry& registry, FileCommandContext context) {
  auto state = std::make_shared<files::FileState>();
  state->context = std::move(context);
  files::register_listing_commands(registry, state);
  files::register_transfer_commands(registry, state);
  files::register_handle_commands(registry, state);
  return FileHandles(std::move(state));
}

void FileHandles::reset() {
  if (state_) state_->reset();
}

namespace files {

namespace {

using at::Call;

// The root's regular files (the upload directory and any other directory are
// not files the host can see).
fs::Result<std::vector<fs::DirEntry>> root_files(fs::SharedFileSystem& fs) {
  const auto held = fs.lock();
  auto entries = held->readdir("/");
  if (!entries) return entries;
  std::erase_if(*entries, [](const fs::DirEntry& e) { return e.type != fs::FileType::file; });
  return entries;
}

// AT+QFLDS="UFS" -> +QFLDS: <free>,<total>. The execute form answers, per the
// Quectel FILE manuals, the bytes used by files and their number.
void qflds(const std::shared_ptr<FileState>& state, Call& call) {
  fs::SharedFileSystem* fs = state->fs();
  if (fs == nullptr) {
    call.responder.cme_error(kDiskInfoFail);
    return;
  }
  if (call.command.form == at::CommandForm::kExecute) {
    auto entries = root_files(*fs);
    if (!entries) {
      call.responder.cme_error(cme_for(entries.error(), kDiskInfoFail));
      return;
    }
    std::uint64_t bytes = 0;
    for (const auto& entry : *entries)
      bytes += entry.size;
    call.responder.info("+QFLDS: " + std::to_string(bytes) + "," + std::to_string(entries->size()));
    call.responder.ok();
    return;
  }
  const auto storage = call.command.arg(0).as_string();
  if (!storage || too_many_args(call.command, 1)) {
    call.responder.cme_error(kInvalidInput);
    return;
  }
  if (*storage != "UFS" && *storage != "ufs") {
    call.responder.cme_error(kInvalidParameter);
    return;
  }
  fs::Result<fs::StatFs> info;
  info = fs->lock()->statfs();
  if (!info) {
    call.responder.cme_error(cme_for(info.error(), kDiskInfoFail));
    return;
  }
  call.responder.info("+QFLDS: " + std::to_string(info->free_bytes) + "," +
                      std::to_string(info->total_bytes));
  call.responder.ok();
}

// AT+QFLST[="<pattern>"] -> one +QFLST: "<name>",<size> per match.
void qflst(const std::shared_ptr<FileState>& state, Call& call) {
  fs::SharedFileSystem* fs = state->fs();
  if (fs == nullptr) {
    call.responder.cme_error(kListFail);
    return;
  }
  std::string pattern = "*";
  if (call.command.form == at::CommandForm::kWrite) {
    if (too_many_args(call.command, 1)) {
      call.responder.cme_error(kInvalidInput);
      return;
    }
    auto parsed = parse_name(call.command.arg(0), true, fs->config().max_name);
    if (!parsed) {
      call.responder.cme_error(parsed.error());
      return;
    }
    pattern = std::move(*parsed);
  }
  auto entries = root_files(*fs);
  if (!entries) {
    call.responder.cme_error(cme_for(entries.error(), kListFail));
    return;
  }
  std::size_t matches = 0;
  for (const auto& entry : *entries) {
    if (!glob_match(pattern, entry.name)) continue;
    call.responder.info("+QFLST: \"" + entry.name + "\"," + std::to_string(entry.size));
    ++matches;
  }
  // A plain name that is not there is an error; a pattern may match nothing.
  const bool literal = pattern.find_first_of("*?") == std::string::npos;
  if (literal && matches == 0) {
    call.responder.cme_error(kNotFound);
    return;
  }
  call.responder.ok();
}

// Deletes one file; 426 while a +QFOPEN handle has it open.
int delete_one(FileState& state, fs::SharedFileSystem& fs, const std::string& name) {
  if (state.is_open(&fs, name)) return kAlreadyOpen;
  const auto held = fs.lock();
  auto removed = held->unlink(path_of(name));
  return removed ? 0 : cme_for(removed.error(), kDeleteFail);
}

// AT+QFDEL="<name>" or "*" (every file; open ones are kept).
void qfdel(const std::shared_ptr<FileState>& state, Call& call) {
  fs::SharedFileSystem* fs = state->fs();
  if (fs == nullptr) {
    call.responder.cme_error(kDeleteFail);
    return;
  }
  auto name = parse_name(call.command.arg(0), true, fs->config().max_name);
  if (!name || too_many_args(call.command, 1)) {
    call.responder.cme_error(name ? static_cast<int>(kInvalidInput) : name.error());
    return;
  }
  if (*name != "*") {
    // Only the whole-drive wildcard is a documented pattern here.
    if (name->find_first_of("*?") != std::string::npos) {
      call.responder.cme_error(kInvalidName);
      return;
    }
    const int code = delete_one(*state, *fs, *name);
    code == 0 ? call.responder.ok() : call.responder.cme_error(code);
    return;
  }
  auto entries = root_files(*fs);
  if (!entries) {
    call.responder.cme_error(cme_for(entries.error(), kDeleteFail));
    return;
  }
  for (const auto& entry : *entries) {
    const int code = delete_one(*state, *fs, entry.name);
    // An open file stays; anything else (flash failure) stops the command.
    if (code != 0 && code != kAlreadyOpen) {
      call.responder.cme_error(code);
      return;
    }
  }
  call.responder.ok();
}

}  // namespace

void register_listing_commands(at::Registry& registry, const std::shared_ptr<FileState>& state) {
  (void)registry.add("+QFLDS", {.execute = bind(state, qflds),
                                .write = bind(state, qflds),
                                .test = answer("+QFLDS: (\"UFS\")"),
                                .gate_tag = kNeedsAppRdy});
  (void)registry.add("+QFLST", {.execute = bind(state, qflst),
                                .write = bind(state, qflst),
                                .test = answer(""),
                                .gate_tag = kNeedsAppRdy});
  (void)registry.add("+QFDEL", {.write = bind(state, qfdel),
                                .test = answer("+QFDEL: <filename>"),
                                .gate_tag = kNeedsAppRdy});
}

}  // namespace files
}  // namespace vmodem::sim
