// Where an IP address is: country, city and network, from MMDB files read in-process. Used by the
// risk engine (new country, impossible travel), devices' labels and the access policies'
// context.country.
export { COUNTRY_CODE, loadGeoDatabases, lookupIp, countryOf, placeLabel, unreadableGeoDatabases, type GeoPoint, type IpFacts } from "./lookup";
