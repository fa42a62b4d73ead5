/* boot.c — the x86 Linux boot protocol, 64-bit entry
 * (Documentation/arch/x86/boot.rst): parse a bzImage's setup header or an
 * ELF64 vmlinux's program headers, copy the kernel into guest memory, and
 * build the zero page (boot_params) the kernel finds in RSI. */
#include "runtime/vm/vmm/vmm.h"

#include <elf.h>
#include <errno.h>
#include <string.h>

#define HDRS_MAGIC 0x53726448u /* "HdrS" */
#define XLF_KERNEL_64 0x1
#define LOADFLAG_CAN_USE_HEAP 0x80
#define MIN_64BIT_VERSION 0x020c /* xloadflags exist from 2.12 */
#define DEFAULT_INITRD_ADDR_MAX 0x37ffffffu
#define PAGE_SIZE_4K 0x1000ULL

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t get32(const uint8_t *p) {
  return (uint32_t)get16(p) | (uint32_t)get16(p + 2) << 16;
}
static uint64_t get64(const uint8_t *p) {
  return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}
static void put16(uint8_t *p, uint16_t v) { p[0] = v & 0xff; p[1] = v >> 8; }
static void put32(uint8_t *p, uint32_t v) {
  put16(p, v & 0xffff);
  put16(p + 2, v >> 16);
}
static void put64(uint8_t *p, uint64_t v) {
  put32(p, (uint32_t)v);
  put32(p + 4, (uint32_t)(v >> 32));
}

static bool is_bzimage(const uint8_t *data, size_t len) {
  return len >= BP_HEADER + 4 && get32(data + BP_HEADER) == HDRS_MAGIC;
}

static bool is_elf64(const uint8_t *data, size_t len) {
  return len >= sizeof(Elf64_Ehdr) && memcmp(data, ELFMAG, SELFMAG) == 0 &&
         data[EI_CLASS] == ELFCLASS64;
}

static int parse_bzimage(const uint8_t *data, size_t len, const char *path,
                         struct kernel_image *out, hull_error_t *err) {
  out->kind = KERNEL_BZIMAGE;
  out->version = get16(data + BP_VERSION);
  out->setup_sects = data[BP_SETUP_SECTS] ? data[BP_SETUP_SECTS] : 4;
  if (out->version < MIN_64BIT_VERSION)
    return hull_error(err, 0,
                      "kernel `%s`: boot protocol %u.%02u is too old for the "
                      "64-bit entry (need 2.12)",
                      path, out->version >> 8, out->version & 0xff);
  out->xloadflags = get16(data + BP_XLOADFLAGS);
  if (!(out->xloadflags & XLF_KERNEL_64))
    return hull_error(err, 0, "kernel `%s`: has no 64-bit entry point", path);
  out->cmdline_size = get32(data + BP_CMDLINE_SIZE);
  out->initrd_addr_max = get32(data + BP_INITRD_ADDR_MAX);
  out->pref_address = get64(data + BP_PREF_ADDRESS);
  out->init_size = get32(data + BP_INIT_SIZE);

  uint64_t setup_size = ((uint64_t)out->setup_sects + 1) * 512;
  if (setup_size >= len)
    return hull_error(err, 0, "kernel `%s`: truncated after the setup code",
                      path);
  out->payload_offset = setup_size + get32(data + BP_PAYLOAD_OFFSET);
  out->payload_length = get32(data + BP_PAYLOAD_LENGTH);
  if (out->payload_offset + out->payload_length > len)
    out->payload_offset = out->payload_length = 0; /* none we can trust */
  out->load_addr = out->pref_address >= VM_HIGH_RAM ? out->pref_address
                                                    : VM_HIGH_RAM;
  out->entry = out->load_addr + 0x200;
  out->nsegments = 1;
  out->segments[0] = (struct kernel_segment){
      .file_offset = setup_size,
      .paddr = out->load_addr,
      .file_size = len - setup_size,
      .mem_size = len - setup_size,
  };
  return 0;
}

static int parse_elf(const uint8_t *data, size_t len, const char *path,
                     struct kernel_image *out, hull_error_t *err) {
  const Elf64_Ehdr *eh = (const Elf64_Ehdr *)data;
  if (eh->e_machine != EM_X86_64)
    return hull_error(err, 0, "kernel `%s`: ELF for machine %u, not x86-64",
                      path, eh->e_machine);
  if (eh->e_phentsize != sizeof(Elf64_Phdr) ||
      eh->e_phoff + (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr) > len)
    return hull_error(err, 0, "kernel `%s`: bad ELF program headers", path);
  out->kind = KERNEL_ELF;
  out->entry = eh->e_entry;
  out->nsegments = 0;
  for (unsigned i = 0; i < eh->e_phnum; i++) {
    Elf64_Phdr ph;
    memcpy(&ph, data + eh->e_phoff + i * sizeof ph, sizeof ph);
    if (ph.p_type != PT_LOAD || ph.p_memsz == 0)
      continue;
    if (ph.p_offset > len || ph.p_filesz > len - ph.p_offset ||
        ph.p_filesz > ph.p_memsz)
      return hull_error(err, 0, "kernel `%s`: segment %u lies outside the file",
                        path, i);
    if (out->nsegments == KERNEL_MAX_SEGMENTS)
      return hull_error(err, 0, "kernel `%s`: more than %d loadable segments",
                        path, KERNEL_MAX_SEGMENTS);
    out->segments[out->nsegments++] = (struct kernel_segment){
        .file_offset = ph.p_offset,
        .paddr = ph.p_paddr,
        .file_size = ph.p_filesz,
        .mem_size = ph.p_memsz,
    };
  }
  if (out->nsegments == 0)
    return hull_error(err, 0, "kernel `%s`: no loadable segments", path);
  out->load_addr = out->segments[0].paddr;
  return 0;
}

int boot_parse_kernel(const uint8_t *data, size_t len, const char *path,
                      struct kernel_image *out, hull_error_t *err) {
  memset(out, 0, sizeof *out);
  if (is_bzimage(data, len))
    return parse_bzimage(data, len, path, out, err);
  if (is_elf64(data, len))
    return parse_elf(data, len, path, out, err);
  return hull_error(err, 0, "kernel `%s`: not a bzImage or ELF vmlinux", path);
}

/* The highest guest-physical byte the kernel occupies, including the room
 * a bzImage decompresses into (init_size). */
static uint64_t kernel_end(const struct kernel_image *img) {
  uint64_t end = 0;
  for (size_t i = 0; i < img->nsegments; i++) {
    uint64_t e = img->segments[i].paddr + img->segments[i].mem_size;
    if (e > end)
      end = e;
  }
  if (img->kind == KERNEL_BZIMAGE && img->load_addr + img->init_size > end)
    end = img->load_addr + img->init_size;
  return end;
}

int boot_load_kernel(uint8_t *mem, uint64_t mem_size, const uint8_t *data,
                     size_t len, const struct kernel_image *img,
                     hull_error_t *err) {
  uint64_t end = kernel_end(img);
  if (end > mem_size)
    return hull_error(err, 0,
                      "kernel needs guest memory up to %#llx, the VM has %llu "
                      "MiB",
                      (unsigned long long)end,
                      (unsigned long long)(mem_size >> 20));
  for (size_t i = 0; i < img->nsegments; i++) {
    const struct kernel_segment *s = &img->segments[i];
    if (s->mem_size > mem_size || s->paddr > mem_size - s->mem_size)
      return hull_error(err, 0, "kernel segment at %#llx does not fit in %llu "
                        "MiB of guest memory", (unsigned long long)s->paddr,
                        (unsigned long long)(mem_size >> 20));
    if (s->paddr < VM_HIGH_RAM)
      return hull_error(err, 0, "kernel segment at %#llx is below 1 MiB",
                        (unsigned long long)s->paddr);
    memcpy(mem + s->paddr, data + s->file_offset, s->file_size);
    memset(mem + s->paddr + s->file_size, 0, s->mem_size - s->file_size);
  }
  return 0;
}

int boot_place_initrd(const struct kernel_image *img, uint64_t mem_size,
                      uint64_t size, uint64_t *addr, hull_error_t *err) {
  uint64_t limit = img->initrd_addr_max ? img->initrd_addr_max
                                        : DEFAULT_INITRD_ADDR_MAX;
  uint64_t top = mem_size < limit + 1 ? mem_size : limit + 1;
  uint64_t floor = (kernel_end(img) + PAGE_SIZE_4K - 1) & ~(PAGE_SIZE_4K - 1);
  if (size > top || ((top - size) & ~(PAGE_SIZE_4K - 1)) < floor)
    return hull_error(err, 0,
                      "initrd of %llu bytes does not fit between the kernel "
                      "and %#llx",
                      (unsigned long long)size, (unsigned long long)top);
  *addr = (top - size) & ~(PAGE_SIZE_4K - 1);
  return 0;
}

static void add_e820(uint8_t *zp, uint64_t addr, uint64_t size, uint32_t type) {
  uint8_t n = zp[BP_E820_ENTRIES];
  uint8_t *e = zp + BP_E820_TABLE + n * BP_E820_ENTRY_SIZE;
  put64(e, addr);
  put64(e + 8, size);
  put32(e + 16, type);
  zp[BP_E820_ENTRIES] = n + 1;
}

/* A bzImage's setup header runs from 0x1f1 to the end of the jump at 0x200
 * (0x202 + its displacement); the kernel expects it copied unchanged. */
static void copy_setup_header(uint8_t *zp, const uint8_t *data, size_t len) {
  size_t end = 0x202 + data[BP_JUMP + 1];
  if (end > len)
    end = len;
  if (end > PAGE_SIZE_4K)
    end = PAGE_SIZE_4K;
  memcpy(zp + BP_SETUP_SECTS, data + BP_SETUP_SECTS, end - BP_SETUP_SECTS);
}

void boot_build_params(uint8_t *zp, const uint8_t *kernel_data,
                       size_t kernel_len, const struct kernel_image *img,
                       const struct boot_layout *l) {
  memset(zp, 0, PAGE_SIZE_4K);
  if (img->kind == KERNEL_BZIMAGE) {
    copy_setup_header(zp, kernel_data, kernel_len);
    put32(zp + BP_CODE32_START, (uint32_t)img->load_addr);
  } else {
    /* vmlinux has no setup header; give it the fields it checks. */
    put16(zp + BP_BOOT_FLAG, 0xaa55);
    put32(zp + BP_HEADER, HDRS_MAGIC);
    put32(zp + BP_KERNEL_ALIGNMENT, 0x1000000);
  }
  zp[BP_TYPE_OF_LOADER] = 0xff;
  zp[BP_LOADFLAGS] |= LOADFLAG_CAN_USE_HEAP;
  put16(zp + BP_HEAP_END_PTR, 0xfe00);
  put32(zp + BP_CMD_LINE_PTR, (uint32_t)l->cmdline_addr);
  put32(zp + BP_EXT_CMD_LINE_PTR, (uint32_t)(l->cmdline_addr >> 32));
  put32(zp + BP_RAMDISK_IMAGE, (uint32_t)l->initrd_addr);
  put32(zp + BP_EXT_RAMDISK_IMAGE, (uint32_t)(l->initrd_addr >> 32));
  put32(zp + BP_RAMDISK_SIZE, (uint32_t)l->initrd_size);
  put32(zp + BP_EXT_RAMDISK_SIZE, (uint32_t)(l->initrd_size >> 32));

  /* Low RAM up to the EBDA; the EBDA, VGA hole and BIOS area reserved, as
   * on a PC; then everything from 1 MiB. */
  add_e820(zp, 0, VM_EBDA_START, VM_E820_RAM);
  add_e820(zp, VM_EBDA_START, VM_HIGH_RAM - VM_EBDA_START, VM_E820_RESERVED);
  add_e820(zp, VM_HIGH_RAM, l->mem_size - VM_HIGH_RAM, VM_E820_RAM);
}
