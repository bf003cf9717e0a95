#!/usr/bin/env bash
# No path to host files: an API user tries to make a server file (/etc/shadow) into an image it could then read
# over iSCSI. By path, through a qcow2 backing file (by path and uploaded), an external qcow2 data file, a VMDK
# whose extent is /etc/shadow, a symbolic link or ../ out of the import directory: each must be refused with a
# 400 and no image. A clean image inside the import directory is imported.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_api.sh"
sec_require_root
command -v qemu-img >/dev/null || { echo "SKIP: needs qemu-img" >&2; exit 77; }
[ -s /etc/shadow ] || { echo "SKIP: needs a non-empty /etc/shadow" >&2; exit 77; }

DATA=$(sec_data data)
IMPORT=$DATA/import # the default import directory (made here too, so an older server has it)
mkdir -p "$IMPORT"
PASSWORD="import-test-$RANDOM$RANDOM"
echo "$PASSWORD" | sec_cli "$DATA" admin set-password >/dev/null
sec_serve "$DATA" "$SEC_SCRATCH/serve.log"
api_login "$SEC_HTTP_PORT" admin "$PASSWORD"

refused() { # WHAT OUTPUT: a 400 naming the problem, and no image made
  local what=$1 out=$2 status
  status=$(api_status "$out")
  [ "$status" = 400 ] || die "$what: answered $status, not 400: $(api_body "$out")"
  ok "$what refused: $(api_body "$out")"
}
import_path() { api POST /api/v1/images -H 'Content-Type: application/json' -d "{\"name\":\"$1\",\"path\":\"$2\"}"; }
upload() { api PUT "/api/v1/images/$1/upload" -H 'Content-Type: application/octet-stream' --data-binary "@$2"; }

refused "/etc/shadow by path" "$(import_path shadow /etc/shadow)"
refused "../ out of the import directory" "$(import_path dotdot "$IMPORT/../../../../etc/shadow")"
ln -s /etc/shadow "$IMPORT/link.raw"
refused "a symbolic link in the import directory to /etc/shadow" "$(import_path link "$IMPORT/link.raw")"

qemu-img create -q -f qcow2 -b /etc/shadow -F raw "$IMPORT/backed.qcow2"
refused "a qcow2 in the import directory backed by /etc/shadow" "$(import_path backed "$IMPORT/backed.qcow2")"
refused "an uploaded qcow2 backed by /etc/shadow" "$(upload backed-up "$IMPORT/backed.qcow2")"

# (qemu-img create would write the data file: never point it at a real file of the host here.)
qemu-img create -q -f qcow2 -o data_file="$SEC_SCRATCH/data.raw" "$IMPORT/datafile.qcow2" 1M
refused "a qcow2 with an external data file" "$(import_path datafile "$IMPORT/datafile.qcow2")"

cat >"$IMPORT/extent.vmdk" <<'VMDK'
# Disk DescriptorFile
version=1
CID=fffffffe
parentCID=ffffffff
createType="monolithicFlat"

RW 8 FLAT "/etc/shadow" 0

ddb.virtualHWVersion = "4"
VMDK
refused "a VMDK in the import directory whose extent is /etc/shadow" "$(import_path extent "$IMPORT/extent.vmdk")"
refused "an uploaded VMDK whose extent is /etc/shadow" "$(upload extent-up "$IMPORT/extent.vmdk")"

# A clean image inside the import directory is imported.
truncate -s 4M "$IMPORT/clean.raw"
dd if=/dev/urandom of="$IMPORT/clean.raw" bs=64K count=2 conv=notrunc status=none
out=$(import_path clean "$IMPORT/clean.raw")
[ "$(api_status "$out")" = 202 ] || die "a clean image in the import directory was refused: $out"
job=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["job"])' <<<"$(api_body "$out")")
grep -q '"state":"done"' <<<"$(api_wait_job "$job")" || die "the clean import failed: $(api_wait_job "$job")"
ok "a clean image inside the import directory is imported"

# Nothing of /etc/shadow became an image: only "clean" exists, and no file of the store holds its bytes.
sleep 1 # any job a refused request might have started has had time to run
images=$(api_body "$(api GET /api/v1/images)")
names=$(python3 -c 'import json,sys; print(" ".join(sorted(i["name"] for i in json.load(sys.stdin)["items"])))' <<<"$images")
[ "$names" = clean ] || die "images other than 'clean' exist: $names"
needle=$(head -n 1 /etc/shadow | cut -c 1-24)
if grep -rlaF -- "$needle" "$DATA/images" "$DATA/nodes" "$DATA/tmp" 2>/dev/null; then
  die "bytes of /etc/shadow are in the image store"
fi
ok "no image was made of /etc/shadow; the store holds none of its bytes"
sec_stop "$SEC_SERVE_PID" || true
