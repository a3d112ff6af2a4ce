SUMMARY = "Example image: a minimal systemd system running speakerd"
DESCRIPTION = "core-image-minimal with speakerd, ALSA's tools and the ALSA configuration. \
Needs DISTRO_FEATURES systemd and usrmerge (see yocto/README.md, or use yocto/local.conf.sample)."
LICENSE = "MIT"

require recipes-core/images/core-image-minimal.bb

IMAGE_INSTALL:append = " speakerd alsa-utils alsa-state"

# A writable /etc and /var: speakerd keeps its state in /var/lib/speakerd and the API key in
# /etc/speakerd/ai-api-key (with a read-only root file system, put both on a data partition).
IMAGE_FEATURES:remove = "read-only-rootfs"

inherit features_check
REQUIRED_DISTRO_FEATURES = "systemd"
