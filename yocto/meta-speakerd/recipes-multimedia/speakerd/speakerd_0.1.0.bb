SUMMARY = "speakerd: firmware daemon for AI smart speakers"
DESCRIPTION = "Full-duplex speech to an AI service with echo cancellation, as a systemd service: \
a Node.js daemon with a C++ audio engine (ALSA, speexdsp) built here for the target CPU, and its \
control client speakerctl."
SECTION = "multimedia"

# speakerd is MIT; the npm packages it ships are MIT (ws, lodash.clonedeep, node-addon-api's headers,
# compiled into the addon), Apache-2.0 (convict) and ISC (yargs-parser).
LICENSE = "MIT & Apache-2.0 & ISC"
LIC_FILES_CHKSUM = "file://LICENSE;md5=91288c1eec72b608be21e8513eef8423 \
                    file://node_modules/convict/LICENSE;md5=fdf8888dfbbfbf1e5f4be5a468076d79 \
                    file://node_modules/ws/LICENSE;md5=7a4bd929a6c0e6951846d75e53fc9f51 \
                    file://node_modules/lodash.clonedeep/LICENSE;md5=a3b2b7770df62392c164de4001b59f8f \
                    file://node_modules/yargs-parser/LICENSE.txt;md5=8fd106383180f7bbb8f534414fdf7d35 \
                    file://node_modules/node-addon-api/LICENSE.md;md5=fc3ff1120869be6b3cce17f9a06bfe2e"

# Where the source comes from: set SPEAKERD_GIT_URI (and pin SRCREV to a release's commit) in a
# bbappend or local.conf; or build a local checkout with externalsrc (see yocto/README.md).
SPEAKERD_GIT_URI ??= "git://github.com/speakerd/speakerd.git;protocol=https;branch=main"
SRCREV ??= "${AUTOREV}"
PV = "0.1.0+git"

# The npm dependencies are fetched by bitbake (do_fetch, with their sha512 integrity) from the
# shrinkwrap, which scripts/yocto/shrinkwrap.mjs derives from package-lock.json: the production
# packages, and with dev=1 the build-only ones (TypeScript and type packages, never installed).
SRC_URI = "${SPEAKERD_GIT_URI};destsuffix=git \
           npmsw://${THISDIR}/${BPN}/npm-shrinkwrap.json;dev=1;destsuffix=git"
S = "${UNPACKDIR}/git"
B = "${S}"

# binding.gyp links libasound and libspeexdsp (pkg-config --libs alsa speexdsp; webrtc: below) and builds against
# node-addon-api (fetched above) and the target's Node.js headers (nodejs, staged in the sysroot);
# nodejs-native runs TypeScript and node-gyp (which npm bundles), python3-native runs gyp.
# openssl: the headers of the AI socket's TLS (native/net/net_link.cc). The addon links no libssl:
# it uses the OpenSSL that Node.js carries or loads (meta-oe's nodejs links the system's).
DEPENDS = "alsa-lib speexdsp nodejs nodejs-native openssl"

# The WebRTC echo engine (aec.engine 'webrtc', AEC3) is optional: PACKAGECONFIG "webrtc" builds it
# against meta-multimedia's webrtc-audio-processing-1. Without it binding.gyp is told to leave the
# engine out (speakerd_webrtc=none), so a copy that happens to be in the sysroot is never linked
# undeclared; the daemon then refuses aec.engine 'webrtc' with a clear configuration error.
PACKAGECONFIG ??= ""
PACKAGECONFIG[webrtc] = ",,webrtc-audio-processing-1"
SPEAKERD_WEBRTC = "${@bb.utils.contains('PACKAGECONFIG', 'webrtc', '1', 'none', d)}"
RDEPENDS:${PN} = "nodejs"
# GPIO buttons, LEDs and power lines go through libgpiod's tools (1.x or 2.x).
RRECOMMENDS:${PN} = "libgpiod-tools"

inherit pkgconfig python3native systemd useradd

# What the image gets from node_modules: the shrinkwrap's production entries but node-addon-api
# (headers, compiled into the addon). The shrinkwrap's "dev" entries (TypeScript, @types/*) are
# only for do_compile. A test keeps this list equal to the shrinkwrap's.
SPEAKERD_RUNTIME_MODULES = "convict lodash.clonedeep ws yargs-parser"

def speakerd_gyp_arch(d):
    import re
    arch = d.getVar('TARGET_ARCH')
    if re.match(r'^i[3-6]86$', arch):
        return 'ia32'
    return {'aarch64': 'arm64', 'arm': 'arm', 'x86_64': 'x64', 'riscv64': 'riscv64',
            'powerpc64le': 'ppc64', 'mips': 'mips', 'mipsel': 'mipsel'}.get(arch, arch)

SPEAKERD_GYP_ARCH = "${@speakerd_gyp_arch(d)}"

do_configure[noexec] = "1"

do_compile() {
	cd "${S}"
	# The JavaScript: TypeScript compiled by the build host's Node.js (the same for every CPU); only
	# src/ (tsconfig.build.json): the tests' fakes need development packages the shrinkwrap leaves out.
	node node_modules/typescript/bin/tsc -p tsconfig.build.json
	# The addon, for the target: the toolchain from the environment (CC, CXX, CFLAGS, LDFLAGS with
	# the sysroot), the target's Node.js headers, pkg-config answering from the target sysroot.
	# binding.gyp builds with -Wall -Wextra -Werror. node-gyp downloads nothing when given --nodedir.
	export LINK="${CXX}"
	export npm_config_devdir="${WORKDIR}/node-gyp"
	node "${STAGING_LIBDIR_NATIVE}/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js" rebuild \
		--arch="${SPEAKERD_GYP_ARCH}" --nodedir="${STAGING_DIR_TARGET}${prefix}" -- -Dspeakerd_webrtc="${SPEAKERD_WEBRTC}"
}

do_install() {
	dest="${D}${nonarch_libdir}/speakerd"
	install -d "${dest}/dist" "${dest}/build/Release" "${dest}/node_modules" "${D}${bindir}"
	install -m 0644 "${S}/package.json" "${dest}/package.json"
	cp -R --no-preserve=ownership "${S}/dist/src" "${dest}/dist/src"
	cp -R --no-preserve=ownership "${S}/config" "${dest}/config"
	find "${dest}/dist" -name '*.map' -delete
	find "${dest}/dist" -name '*.d.ts' -delete
	install -m 0755 "${B}/build/Release/speakerd.node" "${dest}/build/Release/speakerd.node"

	# Runtime npm packages only (with externalsrc, node_modules also holds what `npm ci` put there).
	for module in ${SPEAKERD_RUNTIME_MODULES}; do
		install -d "${dest}/node_modules/${module}"
		cp -R --no-preserve=ownership "${S}/node_modules/${module}/." "${dest}/node_modules/${module}/"
	done

	for cmd in speakerd speakerctl; do
		printf '#!/bin/sh\nexec %s %s/dist/src/cli/%s.js "$@"\n' "${bindir}/node" "${nonarch_libdir}/speakerd" "${cmd}" >"${D}${bindir}/${cmd}"
		chmod 0755 "${D}${bindir}/${cmd}"
	done

	install -D -m 0644 "${S}/systemd/speakerd.service" "${D}${systemd_system_unitdir}/speakerd.service"
	install -D -m 0644 "${S}/systemd/speakerd.sysusers" "${D}${nonarch_libdir}/sysusers.d/speakerd.conf"
	install -D -m 0644 "${S}/systemd/speakerd.tmpfiles" "${D}${nonarch_libdir}/tmpfiles.d/speakerd.conf"
	install -D -m 0644 "${S}/systemd/60-speakerd.rules" "${D}${nonarch_base_libdir}/udev/rules.d/60-speakerd.rules"
	install -D -m 0644 "${S}/scripts/package/speakerd.json" "${D}${sysconfdir}/speakerd/speakerd.json"
	install -d "${D}${sysconfdir}/speakerd/conf.d"
}

# The user and groups at image build time (a read-only root file system cannot run systemd-sysusers
# at boot); the sysusers.d file installed above says the same for systemd.
USERADD_PACKAGES = "${PN}"
GROUPADD_PARAM:${PN} = "--system speakerd; --system gpio; --system spi; --system input"
USERADD_PARAM:${PN} = "--system --no-create-home --home-dir /nonexistent --shell /sbin/nologin \
                       --gid speakerd --groups audio,gpio,spi,input speakerd"

SYSTEMD_SERVICE:${PN} = "speakerd.service"
SYSTEMD_AUTO_ENABLE:${PN} = "enable"

FILES:${PN} += "${nonarch_libdir}/speakerd \
                ${nonarch_libdir}/sysusers.d/speakerd.conf \
                ${nonarch_libdir}/tmpfiles.d/speakerd.conf \
                ${nonarch_base_libdir}/udev/rules.d/60-speakerd.rules"
CONFFILES:${PN} = "${sysconfdir}/speakerd/speakerd.json"
