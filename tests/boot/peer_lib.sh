# shellcheck shell=bash disable=SC2034 # PEER_DNSMASQ_PID is an output for the sourcing script
# The peer boot server (sourced after lib.sh, inside a namespace made by boot_setup): dnsmasq for DHCP + TFTP,
# tgt for iSCSI. The boot chain it sets up:
#   BIOS PXE ROM without iPXE  --DHCP-->  undionly.kpxe  --DHCP (user class iPXE, option 175)-->  boot.ipxe
#   UEFI PXE (arch 7/9)        --DHCP-->  ipxe.efi       --DHCP (iPXE)-->                           boot.ipxe
#   boot.ipxe: sanboot iscsi:<server>:::1:<iqn>
# qemu's BIOS NIC ROM (ipxe-qemu) is iPXE already, so its first DHCP request gets boot.ipxe directly; with
# PEER_CHAIN_UNDIONLY=1 the script makes it load undionly.kpxe through the ROM's PXE API first, which is exactly
# what a vendor PXE ROM does with the DHCP answer above (iPXE running from undionly reports chip "undionly").
#
#   peer_start_dnsmasq      DHCP + TFTP from BOOT_SCRATCH/tftp; sets PEER_DNSMASQ_PID. PEER_TRAPS=fixed (default)
#                           sends option 175.176 no-pxedhcp=1 and IPv6 router advertisements; PEER_TRAPS=default
#                           leaves both out (iPXE then waits for them)
#   peer_write_script IQN   (re)writes BOOT_SCRATCH/tftp/boot.ipxe for target IQN, LUN 1
PEER_TRAPS=${PEER_TRAPS:-fixed}
PEER_CHAIN_UNDIONLY=${PEER_CHAIN_UNDIONLY:-1}

peer_prepare_tftp() {
  mkdir -p "$BOOT_SCRATCH/tftp"
  cp /usr/lib/ipxe/undionly.kpxe /usr/lib/ipxe/ipxe.efi "$BOOT_SCRATCH/tftp/"
}

peer_write_script() {
  local iqn=$1
  {
    echo '#!ipxe'
    if [ "$PEER_CHAIN_UNDIONLY" = 1 ]; then
      # shellcheck disable=SC2016 # ${...} are iPXE settings, expanded by iPXE
      printf '%s\n' 'iseq ${platform} pcbios || goto san' \
        'iseq ${net0/chip} undionly || chain tftp://${next-server}/undionly.kpxe' ':san'
    fi
    echo "sanboot iscsi:$BOOT_SERVER_IP:::1:$iqn || echo BOOTHERD-MARKER sanboot-failed"
  } >"$BOOT_SCRATCH/tftp/boot.ipxe.new"
  mv "$BOOT_SCRATCH/tftp/boot.ipxe.new" "$BOOT_SCRATCH/tftp/boot.ipxe"
}

peer_start_dnsmasq() {
  local conf=$BOOT_SCRATCH/dnsmasq.conf
  boot_dnsmasq_dhcp 100 >"$conf"
  cat >>"$conf" <<EOF
# TFTP too, and the boot file by firmware: undionly.kpxe or ipxe.efi, then the script once iPXE runs.
dhcp-authoritative
enable-tftp
tftp-root=$BOOT_SCRATCH/tftp
dhcp-match=set:ipxe,175
dhcp-userclass=set:ipxe,iPXE
dhcp-match=set:efi64,option:client-arch,7
dhcp-match=set:efi64,option:client-arch,9
dhcp-boot=tag:!ipxe,tag:!efi64,undionly.kpxe
dhcp-boot=tag:!ipxe,tag:efi64,ipxe.efi
dhcp-boot=tag:ipxe,boot.ipxe
EOF
  if [ "$PEER_TRAPS" = fixed ]; then
    cat >>"$conf" <<EOF
# iPXE waits 2 s for ProxyDHCP offers unless told there are none (175.176 no-pxedhcp = 1).
dhcp-option=tag:ipxe,encap:175,176,1
# Without a router advertisement iPXE's IPv6 autoconfiguration holds "Configuring" for ~13 s.
enable-ra
dhcp-range=::,constructor:br0,ra-only
EOF
  fi
  boot_spawn "$BOOT_SCRATCH/dnsmasq.log" dnsmasq --keep-in-foreground --conf-file="$conf"
  PEER_DNSMASQ_PID=$BOOT_LAST_PID
  boot_wait_log "$BOOT_SCRATCH/dnsmasq.log" 'DHCP, IP range' "$PEER_DNSMASQ_PID" dnsmasq
}

# peer_boot MODE IQN REGEX SECS LOG: writes the script for IQN, powers on a MODE (bios|uefi) guest and waits for a
# BOOTHERD-MARKER line; BOOT_MARKER_LINE / BOOT_SECONDS are set. Returns 1 if no marker (or another marker) came.
peer_boot() {
  local mode=$1 iqn=$2 regex=$3 limit=$4 log=$5
  peer_write_script "$iqn"
  boot_start_qemu "$mode" "$log"
  local rc=0
  boot_wait_marker "$log" 'BOOTHERD-MARKER [a-z0-9=-]+' "$limit" || rc=1
  boot_stop_qemu
  [ "$rc" -eq 0 ] || return 1
  [[ $BOOT_MARKER_LINE =~ ^$regex$ ]]
}
