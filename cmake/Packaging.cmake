# Installation rules and the Debian package (`cpack -G DEB` in the build tree).
#
# CPack rather than a debian/ directory: the package is built from the same CMake tree CI already configures,
# with no second build description (debian/rules, debhelper compat, source-package layout) to keep in step, and
# no build-dependency on debhelper/dpkg-buildpackage; dpkg-shlibdeps still computes Depends, and the few
# maintainer scripts live in packaging/.
set(BOOTHERD_PKG_DIR ${CMAKE_BINARY_DIR}/packaging)

install(TARGETS bootherd RUNTIME DESTINATION bin)
# Absolute destinations: Debian 12 keeps units in /lib (not /usr/lib) and configuration in /etc.
install(FILES ${CMAKE_SOURCE_DIR}/packaging/bootherd.service DESTINATION /lib/systemd/system)
install(FILES ${CMAKE_SOURCE_DIR}/packaging/bootherd.bash-completion
        DESTINATION share/bash-completion/completions RENAME bootherd)
install(FILES ${CMAKE_SOURCE_DIR}/packaging/copyright DESTINATION share/doc/bootherd)

# Generated from the built binary: the configuration file (every serve option with its default), the man page
# (help2man from --help) and the compressed changelog Debian wants.
add_custom_command(
  OUTPUT ${BOOTHERD_PKG_DIR}/bootherd.toml
  COMMAND ${CMAKE_SOURCE_DIR}/packaging/make_config.sh $<TARGET_FILE:bootherd> ${BOOTHERD_PKG_DIR}/bootherd.toml
  DEPENDS bootherd ${CMAKE_SOURCE_DIR}/packaging/make_config.sh
  COMMENT "Generating bootherd.toml from bootherd serve --help")
configure_file(${CMAKE_SOURCE_DIR}/packaging/changelog ${BOOTHERD_PKG_DIR}/changelog @ONLY)
add_custom_command(
  OUTPUT ${BOOTHERD_PKG_DIR}/changelog.gz
  COMMAND gzip -9 -n -c ${BOOTHERD_PKG_DIR}/changelog > ${BOOTHERD_PKG_DIR}/changelog.gz
  DEPENDS ${BOOTHERD_PKG_DIR}/changelog)
set(generated ${BOOTHERD_PKG_DIR}/bootherd.toml ${BOOTHERD_PKG_DIR}/changelog.gz)
install(FILES ${BOOTHERD_PKG_DIR}/bootherd.toml DESTINATION /etc/bootherd)
install(FILES ${BOOTHERD_PKG_DIR}/changelog.gz DESTINATION share/doc/bootherd)

find_program(HELP2MAN help2man)
if(HELP2MAN)
  add_custom_command(
    OUTPUT ${BOOTHERD_PKG_DIR}/bootherd.1.gz
    COMMAND ${HELP2MAN} --no-info --version-string=${PROJECT_VERSION}
            "--name=diskless network-boot server: DHCP, TFTP, iPXE scripts and iSCSI disks from golden images"
            --output=${BOOTHERD_PKG_DIR}/bootherd.1 $<TARGET_FILE:bootherd>
    COMMAND gzip -9 -n -f ${BOOTHERD_PKG_DIR}/bootherd.1
    DEPENDS bootherd
    COMMENT "Generating the bootherd(1) man page with help2man")
  list(APPEND generated ${BOOTHERD_PKG_DIR}/bootherd.1.gz)
  install(FILES ${BOOTHERD_PKG_DIR}/bootherd.1.gz DESTINATION share/man/man1)
else()
  message(STATUS "help2man not found: the package will have no man page (tools/install-deps.sh installs it)")
endif()
add_custom_target(package_files ALL DEPENDS ${generated})

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME bootherd)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_PACKAGE_CONTACT "bootherd maintainers <maintainers@users.noreply.b-seed-8ffeba6e.example>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "diskless network-boot server for lab and classroom machines")
set(CPACK_PACKAGE_DESCRIPTION
    "bootherd boots whole rooms of diskless PCs from golden images: one process\n\
serves DHCP (full or proxy), TFTP, iPXE boot scripts and every machine's disk\n\
over iSCSI, with a web dashboard, a REST API and staged image rollouts.")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# ipxe: the TFTP root's undionly.kpxe and ipxe.efi; adduser: postinst's system user.
set(CPACK_DEBIAN_PACKAGE_DEPENDS "ipxe, adduser")
# /usr/bin/bootherd is stripped; its debug symbols go to bootherd-dbgsym_<ver>_amd64.ddeb (by build id).
set(CPACK_DEBIAN_DEBUGINFO_PACKAGE ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${CMAKE_SOURCE_DIR}/packaging/conffiles ${CMAKE_SOURCE_DIR}/packaging/postinst
    ${CMAKE_SOURCE_DIR}/packaging/prerm ${CMAKE_SOURCE_DIR}/packaging/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
