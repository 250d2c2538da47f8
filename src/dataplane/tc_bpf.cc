#include "dataplane/tc_bpf.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/magic.h>
#include <net/if.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <system_error>

#include "dataplane/bpf/fast_path_maps.h"
#include "dataplane/kernel_error.h"
#include "dataplane/kernel_names.h"
#include "dataplane/netns.h"
#include "dataplane/unique_fd.h"
#include "fast_path_bpf_object.h"  // generated: fast_path_bpf_o, fast_path_bpf_o_len

namespace privlink::dataplane {
namespace {

// libbpf's own messages stay quiet (it warns about every query of a link without clsact); its
// errors come back as error codes, which the Status carries.
int quietPrint(enum libbpf_print_level, const char*, va_list) { return 0; }

std::string pinDir(const std::string& ns) { return std::string(kBpfPinRoot) + "/" + ns; }
std::string pinPath(const std::string& ns, const std::string& map) {
  return pinDir(ns) + "/" + map;
}
// The pinned tcx link of `link` (kept beside the maps, so that it outlives privlinkd).
std::string linkPinPath(const std::string& ns, const std::string& link) {
  return pinDir(ns) + "/" + kTcxLinkPinPrefix + link;
}

// tcx (Linux 6.6+): BPF links at tc ingress without the clsact/cls_bpf layers. The numbers of
// linux/bpf.h 6.6 (Debian 12's headers are 6.1's); a kernel without tcx refuses them (EINVAL).
constexpr bpf_attach_type kTcxIngress = static_cast<bpf_attach_type>(46);  // BPF_TCX_INGRESS
constexpr uint32_t kLinkTypeTcx = 11;                                       // BPF_LINK_TYPE_TCX

// The name of BPF program `id` ("#id" when it cannot be read).
std::string programName(uint32_t id) {
  std::string name = "#" + std::to_string(id);
  int fd = bpf_prog_get_fd_by_id(id);
  if (fd < 0) return name;
  UniqueFd prog(fd);
  bpf_prog_info info{};
  uint32_t length = sizeof info;
  if (bpf_obj_get_info_by_fd(fd, &info, &length) == 0) name = info.name;
  return name;
}

bool isFastPathProgram(const std::string& name) {
  return name == PL_FP_PROG_CONSUMER_OUT || name == PL_FP_PROG_CONSUMER_IN ||
         name == PL_FP_PROG_BACKBONE || name == PL_FP_PROG_BACKEND_IN;
}

// Our program among the tcx ingress programs of `ifindex`: its name, "" when none (or no tcx).
std::string tcxProgram(unsigned ifindex) {
  uint32_t ids[16] = {};
  uint32_t count = 16;
  uint32_t flags = 0;
  if (bpf_prog_query(static_cast<int>(ifindex), kTcxIngress, 0, &flags, ids, &count) != 0) return "";
  for (uint32_t i = 0; i < count && i < 16; ++i) {
    std::string name = programName(ids[i]);
    if (isFastPathProgram(name)) return name;
  }
  return "";
}

// Removes our cls_bpf filter from the link's ingress: 0, -ENOENT when there is none (also no
// clsact qdisc at all), else the kernel's -errno.
int detachClassifier(unsigned ifindex) {
  LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = static_cast<int>(ifindex),
              .attach_point = BPF_TC_INGRESS);
  LIBBPF_OPTS(bpf_tc_opts, options, .handle = kFastPathTcHandle,
              .priority = kFastPathTcPriority);
  const int err = bpf_tc_detach(&hook, &options);
  return err == -EINVAL ? -ENOENT : err;
}

Status ensureBpffs() {
  struct statfs fs{};
  if (statfs(kBpfFsRoot, &fs) != 0 || fs.f_type != BPF_FS_MAGIC) {
    ::mkdir(kBpfFsRoot, 0755);
    if (::mount("bpf", kBpfFsRoot, "bpf", 0, "mode=0700") != 0 && errno != EBUSY) {
      return kernelError(errno, std::string("mount bpffs on ") + kBpfFsRoot);
    }
  }
  if (::mkdir(kBpfPinRoot, 0700) != 0 && errno != EEXIST) {
    return kernelError(errno, std::string("mkdir ") + kBpfPinRoot);
  }
  return Status::Ok();
}

struct MapHandle {
  UniqueFd fd;
  uint32_t keySize = 0;
  uint32_t valueSize = 0;  // what one lookup returns (all CPUs for a per-CPU map)
  uint32_t oneValueSize = 0;
  int cpus = 1;
};

bool perCpu(uint32_t type) {
  return type == BPF_MAP_TYPE_PERCPU_HASH || type == BPF_MAP_TYPE_PERCPU_ARRAY ||
         type == BPF_MAP_TYPE_LRU_PERCPU_HASH;
}

Result<MapHandle> openMap(const std::string& ns, const std::string& map) {
  const std::string path = pinPath(ns, map);
  int fd = bpf_obj_get(path.c_str());
  if (fd < 0) return kernelError(errno, "BPF_OBJ_GET " + path);
  MapHandle h;
  h.fd = UniqueFd(fd);
  bpf_map_info info{};
  uint32_t length = sizeof info;
  if (bpf_obj_get_info_by_fd(fd, &info, &length) != 0) {
    return kernelError(errno, "BPF_OBJ_GET_INFO_BY_FD " + path);
  }
  h.keySize = info.key_size;
  h.oneValueSize = info.value_size;
  h.valueSize = info.value_size;
  if (perCpu(info.type)) {
    h.cpus = libbpf_num_possible_cpus();
    if (h.cpus <= 0) return Status::Internal("cannot count the possible CPUs for " + path);
    h.valueSize = ((info.value_size + 7) / 8) * 8 * static_cast<uint32_t>(h.cpus);
  }
  return h;
}

Status checkSize(const std::string& what, const std::string& bytes, uint32_t want) {
  if (bytes.size() == want) return Status::Ok();
  return Status::InvalidArgument("InvalidParameter", what + " is " + std::to_string(bytes.size()) +
                                 " bytes; the map wants " + std::to_string(want));
}

}  // namespace

TcBpf::TcBpf() { libbpf_set_print(quietPrint); }

TcBpf::~TcBpf() {
  for (auto& [ns, obj] : objects_) bpf_object__close(obj);
}

void TcBpf::forget(const std::string& ns) {
  auto it = objects_.find(ns);
  if (it == objects_.end()) return;
  bpf_object__close(it->second);
  objects_.erase(it);
}

Result<bpf_object*> TcBpf::object(const std::string& ns) {
  auto it = objects_.find(ns);
  if (it != objects_.end()) return it->second;
  RETURN_IF_ERROR(validateNamespaceName(ns));
  RETURN_IF_ERROR(ensureBpffs());
  if (::mkdir(pinDir(ns).c_str(), 0700) != 0 && errno != EEXIST) {
    return kernelError(errno, "mkdir " + pinDir(ns));
  }
  for (int attempt = 0; attempt < 2; ++attempt) {
    LIBBPF_OPTS(bpf_object_open_opts, options, .object_name = "pl_fast_path");
    bpf_object* obj = bpf_object__open_mem(fast_path_bpf_o, fast_path_bpf_o_len, &options);
    if (obj == nullptr) return kernelError(errno, "open the fast path BPF object");
    bpf_map* map = nullptr;
    bpf_object__for_each_map(map, obj) {
      const std::string path = pinPath(ns, bpf_map__name(map));
      bpf_map__set_pin_path(map, path.c_str());
    }
    int err = bpf_object__load(obj);
    if (err == 0) {
      objects_[ns] = obj;
      return obj;
    }
    bpf_object__close(obj);
    if (attempt == 0 && err == -EINVAL) {
      // Pinned maps of another layout (an older privlink): start over with new ones.
      std::error_code ec;
      std::filesystem::remove_all(pinDir(ns), ec);
      ::mkdir(pinDir(ns).c_str(), 0700);
      continue;
    }
    return kernelError(-err, "load the fast path BPF object for " + describeNamespace(ns));
  }
  return Status::Internal("load the fast path BPF object for " + describeNamespace(ns));
}

Result<std::vector<TcAttachment>> TcBpf::listAttachmentsHere(const std::string& ns) {
  std::vector<TcAttachment> out;
  struct if_nameindex* names = if_nameindex();
  if (names == nullptr) return kernelError(errno, "list links in " + describeNamespace(ns));
  for (struct if_nameindex* n = names; n->if_index != 0; ++n) {
    if (std::string program = tcxProgram(n->if_index); !program.empty()) {
      out.push_back(TcAttachment{n->if_name, program});
      continue;
    }
    LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = static_cast<int>(n->if_index),
                .attach_point = BPF_TC_INGRESS);
    LIBBPF_OPTS(bpf_tc_opts, query, .handle = kFastPathTcHandle,
                .priority = kFastPathTcPriority);
    if (bpf_tc_query(&hook, &query) != 0) continue;  // no clsact or no filter of ours
    out.push_back(TcAttachment{n->if_name, programName(query.prog_id)});
  }
  if_freenameindex(names);
  return out;
}

Status TcBpf::attachTcx(const std::string& ns, const std::string& link, unsigned ifindex,
                        int programFd, int* error) {
  *error = 0;
  const std::string what = "attach a tcx link to " + link + " in " + describeNamespace(ns);
  const std::string pin = linkPinPath(ns, link);
  if (int fd = bpf_obj_get(pin.c_str()); fd >= 0) {
    // A link we pinned before (an earlier privlinkd): on this very device, the program is
    // replaced in place; a link of a device that is gone (or another one of that name) goes.
    UniqueFd held(fd);
    bpf_link_info info{};
    uint32_t length = sizeof info;
    // tcx's info (ifindex, attach type) lies where the 6.1 header has xdp's ifindex.
    if (bpf_obj_get_info_by_fd(fd, &info, &length) == 0 && info.type == kLinkTypeTcx &&
        info.xdp.ifindex == ifindex && bpf_link_update(fd, programFd, nullptr) == 0) {
      return Status::Ok();
    }
    bpf_link_detach(fd);
    ::unlink(pin.c_str());
  }
  LIBBPF_OPTS(bpf_link_create_opts, options);
  int fd = bpf_link_create(programFd, static_cast<int>(ifindex), kTcxIngress, &options);
  if (fd < 0) {
    *error = errno;
    return kernelError(*error, what);
  }
  UniqueFd created(fd);
  if (bpf_obj_pin(fd, pin.c_str()) != 0) {
    const int error = errno;
    bpf_link_detach(fd);
    return kernelError(error, what + " (pin " + pin + ")");
  }
  return Status::Ok();
}

Status TcBpf::attachHere(const std::string& ns, const TcAttachment& attachment) {
  const std::string what =
      "attach " + attachment.program + " to " + attachment.link + " in " + describeNamespace(ns);
  const unsigned index = if_nametoindex(attachment.link.c_str());
  if (index == 0) return kernelError(errno, what);
  ASSIGN_OR_RETURN(bpf_object * obj, object(ns));
  bpf_program* prog = bpf_object__find_program_by_name(obj, attachment.program.c_str());
  if (prog == nullptr) return Status::NotFound("KernelObjectNotFound", what + ": no such program");
  if (tcx_ != Tcx::kUnsupported) {
    int error = 0;
    Status attached = attachTcx(ns, attachment.link, index, bpf_program__fd(prog), &error);
    if (attached.ok()) {
      tcx_ = Tcx::kSupported;
      detachClassifier(index);  // what an older privlink attached there
      return attached;
    }
    if (tcx_ == Tcx::kSupported || error != EINVAL) return attached;
    tcx_ = Tcx::kUnsupported;  // a kernel before 6.6: clsact and cls_bpf, as below
  }
  LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = static_cast<int>(index),
              .attach_point = BPF_TC_INGRESS);
  int err = bpf_tc_hook_create(&hook);
  if (err != 0 && err != -EEXIST) return kernelError(-err, what + " (clsact)");
  LIBBPF_OPTS(bpf_tc_opts, options, .prog_fd = bpf_program__fd(prog),
              .flags = BPF_TC_F_REPLACE, .handle = kFastPathTcHandle,
              .priority = kFastPathTcPriority);
  err = bpf_tc_attach(&hook, &options);
  if (err != 0) return kernelError(-err, what);
  return Status::Ok();
}

Status TcBpf::detachHere(const std::string& ns, const std::string& link) {
  const std::string what = "detach the fast path from " + link + " in " + describeNamespace(ns);
  const unsigned index = if_nametoindex(link.c_str());
  if (index == 0) return kernelError(errno, what);
  bool found = false;
  const std::string pin = linkPinPath(ns, link);
  if (int fd = bpf_obj_get(pin.c_str()); fd >= 0) {
    UniqueFd held(fd);
    bpf_link_detach(fd);
    ::unlink(pin.c_str());
    found = true;
  }
  const int err = detachClassifier(index);
  if (err != 0 && err != -ENOENT) return kernelError(-err, what);
  if (err == -ENOENT && !found) return kernelError(ENOENT, what);
  return Status::Ok();
}

Result<std::map<std::string, std::string>> TcBpf::dump(const std::string& ns,
                                                       const std::string& map) {
  ASSIGN_OR_RETURN(MapHandle h, openMap(ns, map));
  std::map<std::string, std::string> out;
  // Batches of up to kBatch elements per syscall (hash maps); element by element otherwise.
  constexpr uint32_t kBatch = 1024;
  {
    std::string keys(static_cast<size_t>(h.keySize) * kBatch, '\0');
    std::string values(static_cast<size_t>(h.valueSize) * kBatch, '\0');
    uint64_t cursor = 0;  // opaque batch position (a bucket index for hash maps)
    bool first = true;
    bool batched = true;
    while (true) {
      uint32_t count = kBatch;
      LIBBPF_OPTS(bpf_map_batch_opts, options);
      int err = bpf_map_lookup_batch(h.fd.get(), first ? nullptr : &cursor, &cursor, keys.data(),
                                     values.data(), &count, &options);
      const int saved = errno;
      for (uint32_t i = 0; i < count && (err == 0 || saved == ENOENT); ++i) {
        out[keys.substr(static_cast<size_t>(i) * h.keySize, h.keySize)] =
            values.substr(static_cast<size_t>(i) * h.valueSize, h.valueSize);
      }
      first = false;
      if (err == 0) continue;
      if (saved == ENOENT) break;  // the last batch
      batched = false;             // e.g. EINVAL for map types without batch ops
      break;
    }
    if (batched) return out;
    out.clear();
  }
  std::string key(h.keySize, '\0');
  std::string next(h.keySize, '\0');
  std::string value(h.valueSize, '\0');
  const void* previous = nullptr;
  while (bpf_map_get_next_key(h.fd.get(), previous, next.data()) == 0) {
    if (bpf_map_lookup_elem(h.fd.get(), next.data(), value.data()) == 0) out[next] = value;
    key = next;
    previous = key.data();
  }
  if (errno != ENOENT) return kernelError(errno, "dump " + pinPath(ns, map));
  return out;
}

Result<std::string> TcBpf::lookup(const std::string& ns, const std::string& map,
                                  const std::string& key) {
  ASSIGN_OR_RETURN(MapHandle h, openMap(ns, map));
  RETURN_IF_ERROR(checkSize("key", key, h.keySize));
  std::string value(h.valueSize, '\0');
  if (bpf_map_lookup_elem(h.fd.get(), key.data(), value.data()) != 0) {
    return kernelError(errno, "lookup in " + pinPath(ns, map));
  }
  return value;
}

Status TcBpf::update(const std::string& ns, const std::string& map, const std::string& key,
                     const std::string& value) {
  ASSIGN_OR_RETURN(MapHandle h, openMap(ns, map));
  RETURN_IF_ERROR(checkSize("key", key, h.keySize));
  RETURN_IF_ERROR(checkSize("value", value, h.oneValueSize));
  std::string bytes = value;
  if (h.cpus > 1 || h.valueSize != h.oneValueSize) {
    const uint32_t stride = h.valueSize / static_cast<uint32_t>(h.cpus);
    bytes.assign(h.valueSize, '\0');
    for (int cpu = 0; cpu < h.cpus; ++cpu) bytes.replace(cpu * stride, value.size(), value);
  }
  if (bpf_map_update_elem(h.fd.get(), key.data(), bytes.data(), BPF_ANY) != 0) {
    return kernelError(errno, "update " + pinPath(ns, map));
  }
  return Status::Ok();
}

Status TcBpf::erase(const std::string& ns, const std::string& map, const std::string& key) {
  ASSIGN_OR_RETURN(MapHandle h, openMap(ns, map));
  RETURN_IF_ERROR(checkSize("key", key, h.keySize));
  if (bpf_map_delete_elem(h.fd.get(), key.data()) != 0) {
    return kernelError(errno, "delete from " + pinPath(ns, map));
  }
  return Status::Ok();
}

Result<std::vector<std::string>> TcBpf::listPinned() {
  std::vector<std::string> out;
  std::error_code ec;
  if (!std::filesystem::is_directory(kBpfPinRoot, ec)) return out;
  for (const auto& entry : std::filesystem::directory_iterator(kBpfPinRoot, ec)) {
    if (entry.is_directory(ec)) out.push_back(entry.path().filename().string());
  }
  if (ec) return Status::Internal(std::string("list ") + kBpfPinRoot + ": " + ec.message());
  std::sort(out.begin(), out.end());
  return out;
}

Status TcBpf::removePinned(const std::string& ns) {
  RETURN_IF_ERROR(validateNamespaceName(ns));
  forget(ns);
  std::error_code ec;
  if (!std::filesystem::exists(pinDir(ns), ec)) {
    return Status::NotFound("KernelObjectNotFound", "no pinned fast path maps for " +
                                                        describeNamespace(ns));
  }
  std::filesystem::remove_all(pinDir(ns), ec);
  if (ec) return Status::Internal("remove " + pinDir(ns) + ": " + ec.message());
  return Status::Ok();
}

}  // namespace privlink::dataplane
