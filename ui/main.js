// Placeholder page: shows which clouds the library found.
const { invoke } = window.__TAURI__.core;
const el = document.getElementById('clouds');
invoke('list_clouds').then((v) => {
  const names = [...v.clouds, ...(v.env_cloud ? ['envvars (OS_* variables)'] : [])];
  el.textContent = names.length
    ? `Clouds found: ${names.join(', ')}${v.clouds_file ? ` (from ${v.clouds_file})` : ''}`
    : 'No cloud is configured yet: put a clouds.yaml in ~/.config/openstack/ or start Stackdrop from a shell where an openrc was sourced.';
}).catch((e) => { el.textContent = `Could not read the cloud settings: ${e}`; });
