#!/bin/sh
# Seeds a running menqian through its API for the wrk load run: one county,
# one road, one officer, MERCHANTS merchants and one evidence photo. Prints
# the environment inspections.lua reads.
#
#   MENQIAN_URL=http://127.0.0.1:8080 ADMIN_PASSWORD=… ./seed.sh > load.env
set -eu
URL=${MENQIAN_URL:-http://127.0.0.1:8080}
N=${MERCHANTS:-200}
api() { # method path token [json]
  curl -fsS -X "$1" "$URL$2" -H "Authorization: Bearer $3" -H 'Content-Type: application/json' ${4:+-d "$4"}
}
login() {
  curl -fsS "$URL/api/v1/auth/login" -d "{\"username\":\"$1\",\"password\":\"$2\"}" | jq -r .token
}
admin=$(login admin "$ADMIN_PASSWORD")
county=$(api POST /api/v1/counties "$admin" '{"code":"370303","name":"张店区"}' | jq .id)
road=$(api POST /api/v1/roads "$admin" "{\"county_id\":$county,\"name\":\"柳泉路\",\"town\":\"车站街道\"}" | jq .id)
api POST /api/v1/users "$admin" "{\"username\":\"load-officer\",\"password\":\"load-password-1\",\"role\":\"officer\",\"county_id\":$county}" >/dev/null
officer=$(login load-officer load-password-1)
first=
i=1
while [ "$i" -le "$N" ]; do
  id=$(api POST /api/v1/merchants "$admin" "{\"road_id\":$road,\"name\":\"压测商户$i\"}" | jq .id)
  first=${first:-$id}
  i=$((i + 1))
done
# A 1×1 PNG as evidence.
png=$(mktemp)
printf '\211PNG\r\n\032\n\000\000\000\rIHDR\000\000\000\001\000\000\000\001\010\006\000\000\000\037\025\304\211\000\000\000\rIDATx\234c\370\377\377?\000\005\376\002\376\247\065\201\204\000\000\000\000IEND\256B`\202' >"$png"
photo=$(curl -fsS "$URL/api/v1/photos" -H "Authorization: Bearer $officer" -F "file=@$png;filename=evidence.png" | jq .id)
rm -f "$png"
echo "export MENQIAN_TOKEN=$officer"
echo "export MENQIAN_MERCHANTS=$first-$id"
echo "export MENQIAN_PHOTO=$photo"
