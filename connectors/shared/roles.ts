/**
 * Guesses the standard role of a column from its name, so that default
 * mappings pair e.g. `first_name` in a database with HubSpot's `firstname`.
 */
import type { StandardRole } from '../../src/connector.js';

const CONTACT_ROLES: Record<string, StandardRole> = {
  email: 'email', emailaddress: 'email', mail: 'email',
  firstname: 'firstname', givenname: 'firstname', fname: 'firstname',
  lastname: 'lastname', surname: 'lastname', familyname: 'lastname', lname: 'lastname',
  phone: 'phone', phonenumber: 'phone', telephone: 'phone',
  mobile: 'mobilephone', mobilephone: 'mobilephone', cellphone: 'mobilephone',
  jobtitle: 'jobtitle', title: 'jobtitle',
  company: 'company', companyname: 'company',
  website: 'website',
  address: 'address', streetaddress: 'address',
  city: 'city',
  state: 'state', region: 'state',
  zip: 'zip', zipcode: 'zip', postalcode: 'zip', postcode: 'zip',
  country: 'country',
  lifecyclestage: 'lifecyclestage',
};

const COMPANY_ROLES: Record<string, StandardRole> = {
  name: 'name', companyname: 'name',
  domain: 'domain', domainname: 'domain',
  website: 'website', industry: 'industry', description: 'description',
  employees: 'numberofemployees', numberofemployees: 'numberofemployees', employeecount: 'numberofemployees',
  revenue: 'annualrevenue', annualrevenue: 'annualrevenue',
  phone: 'phone', address: 'address', city: 'city', state: 'state', region: 'state',
  zip: 'zip', postalcode: 'zip', country: 'country', lifecyclestage: 'lifecyclestage',
};

const DEAL_ROLES: Record<string, StandardRole> = {
  dealname: 'dealname', name: 'dealname',
  amount: 'amount',
  stage: 'dealstage', dealstage: 'dealstage',
  pipeline: 'pipeline',
  closedate: 'closedate',
};

const ROLES_BY_OBJECT: Record<string, Record<string, StandardRole>> = {
  contacts: CONTACT_ROLES, companies: COMPANY_ROLES, deals: DEAL_ROLES,
};

/** `First_Name`, `first-name`, `firstName` → `firstname`. */
const normalise = (column: string) => column.toLowerCase().replace(/[^a-z0-9]/g, '');

/** The role of a column of a standard object, if its name is a known one. */
export function guessRole(object: string, column: string): StandardRole | undefined {
  return ROLES_BY_OBJECT[object]?.[normalise(column)];
}

/** `first_name` → `First name`. */
export function labelFor(column: string): string {
  const words = column.replace(/([a-z])([A-Z])/g, '$1 $2').replace(/[_-]+/g, ' ').trim().toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}
