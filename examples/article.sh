#!/usr/bin/env bash
# The article's commands (shared/seed, DESIGN.md §1), verbatim, with the real openstack
# client against a lab started by `ovnlab up`:
#
#   ovnlab up && export OS_CLIENT_CONFIG_FILE=.ovnlab/clouds.yaml OS_CLOUD=ovnlab-admin
#   bash examples/article.sh
set -euo pipefail

openstack network create --provider-network-type geneve --provider-segment 123 n1
openstack subnet create --subnet-range 172.16.100.0/24 --network n1 n1subnet
openstack network create --provider-network-type flat --provider-physical-network extnet0 ext_n2 \
--external
SUBNET_RANGE=10.0.2.0/24
GATEWAY=10.0.2.2
ALLOCATION_RANGE=start=10.0.2.210,end=10.0.2.220
openstack subnet create --subnet-range ${SUBNET_RANGE} --network ext_n2 extsubnet \
--no-dhcp \
--gateway ${GATEWAY} \
--allocation-pool ${ALLOCATION_RANGE}
IMAGE_ID=$(openstack image show cirros --format json | jq -r .id)
openstack server create --nic net-id=n1,v4-fixed-ip=172.16.100.10 --flavor m1.nano --image $IMAGE_ID vm_1
openstack router create r
openstack router add subnet r n1subnet
openstack router set r --external-gateway ext_n2
openstack floating ip create ext_n2
FLOATING_IP=$(openstack floating ip list --format json | jq -rc '.[]."Floating IP Address"')
openstack server add floating ip vm_1 ${FLOATING_IP}
# allow-icmp-ssh was created on an earlier day of the article series:
openstack security group create allow-icmp-ssh
openstack security group rule create --protocol icmp allow-icmp-ssh
openstack security group rule create --protocol tcp --dst-port 22 allow-icmp-ssh
openstack server add security group vm_1 allow-icmp-ssh
echo "FLOATING_IP=${FLOATING_IP}"
