# The development OEM key: made once per build tree with meter-sign, so the platform's own
# legally relevant plugins load in meterd and the tests. A real OEM signs with its own key,
# kept off the build machine (docs/sdk.md).
set(METER_OEM_DIR ${PROJECT_BINARY_DIR}/oem)
set(METER_OEM_PUBLIC_KEY ${METER_OEM_DIR}/oem-public.key)
set(METER_OEM_SECRET_KEY ${METER_OEM_DIR}/oem-secret.key)

# Made once: naming meter-sign in COMMAND builds it first, but (unlike DEPENDS) a rebuilt
# meter-sign does not make a new key, which would invalidate every signature.
function(meter_oem_key_target)
  add_custom_command(
    OUTPUT ${METER_OEM_PUBLIC_KEY} ${METER_OEM_SECRET_KEY}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${METER_OEM_DIR}
    COMMAND meter-sign keygen --public ${METER_OEM_PUBLIC_KEY} --secret ${METER_OEM_SECRET_KEY}
    COMMENT "Making the development OEM key pair")
  add_custom_target(meter_oem_key DEPENDS ${METER_OEM_PUBLIC_KEY})
endfunction()

# meter_sign_if_legal(TARGET MANIFEST): signs the plugin after every build when its manifest
# declares it legally relevant.
function(meter_sign_if_legal target manifest)
  file(READ ${manifest} text)
  if(text MATCHES "legal_class *= *\"legally-relevant\"")
    add_dependencies(${target} meter_oem_key)
    add_custom_command(TARGET ${target} POST_BUILD
      COMMAND meter-sign sign --secret ${METER_OEM_SECRET_KEY} $<TARGET_FILE:${target}>
      COMMENT "Signing ${target} with the development OEM key")
  endif()
endfunction()
