/* vm.c — the "vm" section (config-vm.md): hypervisor, guest kernel, root
 * image and hardware for containers run inside a virtual machine. */
#include "parse.h"

#include <stdlib.h>

static const char *const image_formats[] = {"raw", "qcow2", "vdi", "vmdk",
                                            "vhd", NULL};

static int parse_hypervisor(yajl_val vm, const struct jpath *up,
                            struct spec_vm *out, hull_error_t *err) {
  yajl_val v;
  int r = jobject(vm, up, "hypervisor", OPTIONAL, &v, err);
  if (r <= 0)
    return r;
  const struct jpath *at = JKEY(up, "hypervisor");
  out->has_hypervisor = true;
  if (jstring(v, at, "path", REQUIRED, &out->hypervisor.path, err) < 0 ||
      jstrv(v, at, "parameters", OPTIONAL, &out->hypervisor.parameters, err) <
          0)
    return -1;
  return 0;
}

static int parse_kernel(yajl_val vm, const struct jpath *up,
                        struct spec_vm *out, hull_error_t *err) {
  yajl_val v;
  if (jobject(vm, up, "kernel", REQUIRED, &v, err) < 0)
    return -1;
  const struct jpath *at = JKEY(up, "kernel");
  out->has_kernel = true;
  if (jstring(v, at, "path", REQUIRED, &out->kernel.path, err) < 0 ||
      jstrv(v, at, "parameters", OPTIONAL, &out->kernel.parameters, err) < 0 ||
      jstring(v, at, "initrd", OPTIONAL, &out->kernel.initrd, err) < 0)
    return -1;
  return 0;
}

static int parse_image(yajl_val vm, const struct jpath *up,
                       struct spec_vm *out, hull_error_t *err) {
  yajl_val v;
  int r = jobject(vm, up, "image", OPTIONAL, &v, err);
  if (r <= 0)
    return r;
  const struct jpath *at = JKEY(up, "image");
  out->has_image = true;
  if (jstring(v, at, "path", REQUIRED, &out->image.path, err) < 0 ||
      jstring_enum(v, at, "format", REQUIRED, image_formats, "image format",
                   &out->image.format, err) < 0)
    return -1;
  return 0;
}

static int parse_iomem(yajl_val v, const struct jpath *at, void *item,
                       hull_error_t *err) {
  struct spec_vm_iomem *m = item;
  if (jspec_uint(v, at, "firstGFN", UINT64_MAX, &m->first_gfn, err) < 0 ||
      juint(v, at, "firstMFN", REQUIRED, UINT64_MAX, &m->first_mfn, err) < 0 ||
      juint(v, at, "nrMFNs", REQUIRED, UINT64_MAX, &m->nr_mfns, err) < 0)
    return -1;
  return 0;
}

static int parse_hw_config(yajl_val vm, const struct jpath *up,
                           struct spec_vm *out, hull_error_t *err) {
  yajl_val v;
  int r = jobject(vm, up, "hwConfig", OPTIONAL, &v, err);
  if (r <= 0)
    return r;
  const struct jpath *at = JKEY(up, "hwConfig");
  __typeof__(out->hw_config) *hw = &out->hw_config;
  out->has_hw_config = true;
  if (jstring(v, at, "deviceTree", OPTIONAL, &hw->device_tree, err) < 0 ||
      jspec_uint(v, at, "vcpus", UINT32_MAX, &hw->vcpus, err) < 0 ||
      jspec_uint(v, at, "memory", UINT64_MAX, &hw->memory, err) < 0 ||
      jstrv(v, at, "dtdevs", OPTIONAL, &hw->dtdevs, err) < 0 ||
      jarray(v, at, "iomems", OPTIONAL, sizeof(struct spec_vm_iomem),
             parse_iomem, &hw->iomems, &hw->n_iomems, err) < 0 ||
      juint32_array(v, at, "irqs", &hw->irqs, &hw->n_irqs, err) < 0)
    return -1;
  return 0;
}

int spec_parse_vm(yajl_val parent, const struct jpath *up,
                  struct spec_vm **out, hull_error_t *err) {
  yajl_val v;
  int r = jobject(parent, up, "vm", OPTIONAL, &v, err);
  if (r <= 0)
    return r;
  const struct jpath *at = JKEY(up, "vm");
  struct spec_vm *vm = *out = xzalloc(sizeof(*vm));
  if (parse_hypervisor(v, at, vm, err) < 0 ||
      parse_kernel(v, at, vm, err) < 0 || parse_image(v, at, vm, err) < 0 ||
      parse_hw_config(v, at, vm, err) < 0)
    return -1;
  return 0;
}

void spec_vm_free(struct spec_vm *vm) {
  if (vm == NULL)
    return;
  free(vm->hypervisor.path);
  strv_free(vm->hypervisor.parameters);
  free(vm->kernel.path);
  strv_free(vm->kernel.parameters);
  free(vm->kernel.initrd);
  free(vm->image.path);
  free(vm->image.format);
  free(vm->hw_config.device_tree);
  strv_free(vm->hw_config.dtdevs);
  free(vm->hw_config.iomems);
  free(vm->hw_config.irqs);
  free(vm);
}
