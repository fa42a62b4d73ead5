/* standin.c — TEMPORARY: stand-ins for what other helpers are writing
 * (config.c, image.c), so the monitor's branch links
 * and its unit tests run. Deleted when those land on main. */
#include "vm.h"

#include <stdlib.h>
#include <string.h>

bool vm_wanted(const struct spec *spec) {
  const char *h = spec_map_get(&spec->annotations, VM_HANDLER_ANNOTATION);
  return spec->vm != NULL || (h && strcmp(h, VM_HANDLER_NAME) == 0);
}

int vm_settings_from_spec(const struct spec *spec, struct vm_settings *out,
                          hull_error_t *err) {
  (void)spec;
  (void)out;
  return hull_error(err, 0, "vm: settings: not yet");
}

void vm_settings_free(struct vm_settings *s) {
  free(s->kernel);
  free(s->initrd);
  strv_free(s->kernel_params);
  free(s->hypervisor);
  strv_free(s->hypervisor_params);
  *s = (struct vm_settings){0};
}

int vm_image_base(const char *cache_dir, char **path, hull_error_t *err) {
  (void)cache_dir;
  (void)path;
  return hull_error(err, 0, "vm: image: not yet");
}

int vm_guest_config(const char *config_text, const char *id, char **out,
                    hull_error_t *err) {
  (void)config_text;
  (void)id;
  (void)out;
  return hull_error(err, 0, "vm: guest config: not yet");
}

int vm_image_container(const char *user_initrd, const char *base_path,
                       const struct spec *spec, const char *rootfs,
                       const char *guest_config, const char *out_path,
                       hull_error_t *err) {
  (void)user_initrd;
  (void)base_path;
  (void)spec;
  (void)rootfs;
  (void)guest_config;
  (void)out_path;
  return hull_error(err, 0, "vm: image: not yet");
}
