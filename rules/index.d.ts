/** The directory of the shipped playbooks and their `.cases.yaml`, wherever this package is installed. */
export declare const playbooksDirectory: string;
