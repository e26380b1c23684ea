/**
 * datasync's objects and the Dataverse tables behind them: contacts →
 * `contacts`, companies → `accounts`, deals → `opportunities`; their
 * associations (single-valued lookups) and the standard roles of their
 * columns, and field specs built from the table's attribute metadata.
 */
import type { FieldSpec, FieldType, StandardRole } from '../../src/connector.js';

export interface LookupSpec {
  /** Association name in SourceRecord.associations. */
  name: string;
  /** datasync object of the related records. */
  object: string;
  /** The lookup column (read as `_column_value`). */
  column: string;
  /** The single-valued navigation property written with `@odata.bind`. */
  navigation: string;
  /** Logical name of the related table (a customer lookup may also point at a contact). */
  target: string;
}

export interface DynamicsObject {
  name: string;
  label: string;
  entitySet: string;
  logicalName: string;
  primaryId: string;
  lookups: LookupSpec[];
  roles: Record<string, StandardRole>;
}

export const OBJECTS: Record<string, DynamicsObject> = {
  contacts: {
    name: 'contacts', label: 'Contacts', entitySet: 'contacts', logicalName: 'contact', primaryId: 'contactid',
    lookups: [{ name: 'company', object: 'companies', column: 'parentcustomerid', navigation: 'parentcustomerid_account', target: 'account' }],
    roles: {
      emailaddress1: 'email', firstname: 'firstname', lastname: 'lastname', telephone1: 'phone', mobilephone: 'mobilephone',
      jobtitle: 'jobtitle', address1_city: 'city', address1_country: 'country', address1_stateorprovince: 'state', address1_postalcode: 'zip',
    },
  },
  companies: {
    name: 'companies', label: 'Accounts', entitySet: 'accounts', logicalName: 'account', primaryId: 'accountid',
    lookups: [],
    roles: {
      name: 'name', websiteurl: 'website', telephone1: 'phone', address1_city: 'city', address1_country: 'country',
      numberofemployees: 'numberofemployees', revenue: 'annualrevenue', description: 'description', industrycode: 'industry',
    },
  },
  deals: {
    name: 'deals', label: 'Opportunities', entitySet: 'opportunities', logicalName: 'opportunity', primaryId: 'opportunityid',
    lookups: [{ name: 'company', object: 'companies', column: 'parentaccountid', navigation: 'parentaccountid', target: 'account' }],
    roles: { name: 'dealname', estimatedvalue: 'amount', estimatedclosedate: 'closedate' },
  },
};

/** What `EntityDefinitions(...)/Attributes` answers, the parts used here. */
export interface AttributeMetadata {
  LogicalName: string;
  AttributeType: string;
  DisplayName?: { UserLocalizedLabel?: { Label?: string } | null };
  IsValidForCreate?: boolean;
  IsValidForUpdate?: boolean;
  Format?: string;
  OptionSet?: { Options?: Array<{ Value: number; Label?: { UserLocalizedLabel?: { Label?: string } | null } }> };
}

/** Columns Dataverse keeps itself or that datasync does not sync. */
const SKIPPED = new Set(['Uniqueidentifier', 'Lookup', 'Customer', 'Owner', 'PartyList', 'Virtual', 'EntityName', 'State', 'Status', 'ManagedProperty', 'BigInt', 'Image', 'File']);

function typeOf(a: AttributeMetadata): FieldType | undefined {
  switch (a.AttributeType) {
    case 'String': case 'Memo': return 'text';
    case 'Integer': case 'Decimal': case 'Double': case 'Money': return 'number';
    case 'Boolean': return 'boolean';
    case 'DateTime': return a.Format === 'DateOnly' ? 'date' : 'datetime';
    case 'Picklist': return 'select';
    default: return undefined;
  }
}

export function toFieldSpecs(obj: DynamicsObject, attributes: AttributeMetadata[], picklists: Map<string, AttributeMetadata>): FieldSpec[] {
  const specs: FieldSpec[] = [];
  for (const a of attributes) {
    if (SKIPPED.has(a.AttributeType)) continue;
    const type = typeOf(a);
    if (!type) continue;
    const spec: FieldSpec = {
      name: a.LogicalName,
      label: a.DisplayName?.UserLocalizedLabel?.Label || a.LogicalName,
      type,
      readOnly: !a.IsValidForCreate && !a.IsValidForUpdate,
    };
    const role = obj.roles[a.LogicalName];
    if (role) spec.role = role;
    if (type === 'select') {
      const options = picklists.get(a.LogicalName)?.OptionSet?.Options ?? [];
      spec.options = options.map((o) => ({ value: String(o.Value), label: o.Label?.UserLocalizedLabel?.Label ?? String(o.Value) }));
    }
    specs.push(spec);
  }
  return specs;
}
