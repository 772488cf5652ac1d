# What `cmake --install` puts on a host, and the Debian package CPack
# builds from it (packaging/build-deb runs both).
#
# CPack's DEB generator rather than a debian/ directory: the install
# rules above are the one description of the installed layout, CPack
# derives Depends: from the binary's shared libraries with
# dpkg-shlibdeps, and the package builds from any build directory
# without debhelper's second build of the tree.

set(ALERTBRIDGE_UNIT_DIR /lib/systemd/system CACHE PATH
	"Where the systemd units are installed")
set(ALERTBRIDGE_CONF_DIR /etc/alertbridge CACHE PATH
	"Where the configuration and credentials are installed")
set(ALERTBRIDGE_MAINTAINER
	"alertbridge maintainers <alertbridge@ghostline.example.org>"
	CACHE STRING "The package's Maintainer: field")
set(PKG_SRC ${CMAKE_SOURCE_DIR}/packaging)
set(PKG_BIN ${CMAKE_BINARY_DIR}/packaging)

install(FILES ${CMAKE_SOURCE_DIR}/systemd/alertbridge.service
	${CMAKE_SOURCE_DIR}/systemd/alertbridge.socket
	DESTINATION ${ALERTBRIDGE_UNIT_DIR})
install(FILES ${PKG_SRC}/alertbridge.sysusers
	DESTINATION lib/sysusers.d RENAME alertbridge.conf)
install(FILES ${PKG_SRC}/alertbridge.tmpfiles
	DESTINATION lib/tmpfiles.d RENAME alertbridge.conf)
install(FILES ${CMAKE_SOURCE_DIR}/config/alertbridge.yaml
	DESTINATION ${ALERTBRIDGE_CONF_DIR})

# The credentials directory ships empty, readable by root alone: the
# unit's LoadCredential= copies the keys from it into the service.
file(MAKE_DIRECTORY ${PKG_BIN}/credentials)
install(DIRECTORY ${PKG_BIN}/credentials DESTINATION ${ALERTBRIDGE_CONF_DIR}
	DIRECTORY_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE)

# Debian's documentation files; the changelog compressed as policy asks.
configure_file(${PKG_SRC}/changelog.in ${PKG_BIN}/changelog @ONLY)
add_custom_command(OUTPUT ${PKG_BIN}/changelog.gz
	COMMAND gzip -9n -c ${PKG_BIN}/changelog > ${PKG_BIN}/changelog.gz
	DEPENDS ${PKG_BIN}/changelog
	COMMENT "Compressing the package changelog")
add_custom_target(package-docs ALL DEPENDS ${PKG_BIN}/changelog.gz)
install(FILES ${PKG_SRC}/copyright ${PKG_SRC}/README.Debian
	${PKG_BIN}/changelog.gz
	DESTINATION share/doc/alertbridge)
install(FILES ${PKG_SRC}/lintian-overrides
	DESTINATION share/lintian/overrides RENAME alertbridge)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME alertbridge)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_PACKAGE_CONTACT ${ALERTBRIDGE_MAINTAINER})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "routes AWS SNS alerts to PagerDuty")
# CPack indents each line of the long description itself.
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
"alertbridge receives Amazon SNS notifications (CloudWatch alarms,
EventBridge events such as GuardDuty findings, AWS Budgets), verifies
their signatures, routes them with rules written in YAML and delivers
PagerDuty Events API v2 events through a durable queue. It runs the
escalation path of an on-call runbook and stops it on acknowledgement
or resolve.")
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# postinst makes the account and state directory with systemd-sysusers
# and systemd-tmpfiles, and registers the units with deb-systemd-helper.
set(CPACK_DEBIAN_PACKAGE_DEPENDS "systemd, init-system-helpers (>= 1.54~)")
set(CPACK_STRIP_FILES ON)
file(WRITE ${PKG_BIN}/conffiles
	"${ALERTBRIDGE_CONF_DIR}/alertbridge.yaml\n")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
	${PKG_SRC}/postinst ${PKG_SRC}/prerm ${PKG_SRC}/postrm
	${PKG_BIN}/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
